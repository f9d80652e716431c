package dev.nfnets.train.cli;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.WeightMismatchException;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.layers.Parameter;
import dev.nfnets.train.RunFolder;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.listen.ChartListener;
import dev.nfnets.train.listen.CsvMetricsListener;
import dev.nfnets.train.listen.LoggingListener;
import dev.nfnets.train.listen.ProgressBarListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Train or fine-tune an NFNet (default: Fashion-MNIST) and evaluate it.",
        description = {"Train (or fine-tune) an NFNet and evaluate it. With no options: the small 'mnist' NFNet on",
                "Fashion-MNIST (the full set if /usr/share/datasets/fashion-mnist exists, else the embedded subset).",
                "Writes checkpoint.safetensors, weights.safetensors (final), weights-best.safetensors (best test top-1),",
                "classes.txt, metrics.csv, eval.csv, agc.csv, curves.png and agc.png into the run folder."})
final class TrainCommand implements Callable<Integer> {
    /** Class names of the training data, one per line, written into the run folder for {@code predict}. */
    static final String CLASSES_FILE = "classes.txt";

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or an image folder (default: ${DEFAULT-VALUE})")
    String data;
    @Option(names = "--fashion-mnist-dir", description = "folder with the four Fashion-MNIST IDX files (default: system copy, else embedded subset)")
    Path fashionDir;
    @Option(names = "--test-data", description = "image folder to evaluate on (default: <data>/test or <data>/val)")
    Path testData;
    @Option(names = "--image-size", description = "crop size for image folders (default: the model's train size)")
    Integer imageSize;
    @Option(names = "--channels", description = "read image folders as 1 (grey) or 3 (RGB) channels (default: the model's "
            + "input channels)")
    Integer channels;
    @Option(names = "--resize", description = "resize the shorter side of folder images to this before the centre crop "
            + "(default: crop size + 32 for RGB; grey images are resized to the crop size whole)")
    Integer resize;
    @Option(names = "--model", defaultValue = "mnist", description = "f0..f7, mnist, or a config JSON file (default: ${DEFAULT-VALUE})")
    String model;
    @Option(names = "--epochs", defaultValue = "10", description = "default: ${DEFAULT-VALUE}")
    int epochs;
    @Option(names = "--steps", defaultValue = "0", description = "stop after this many steps (0: all epochs)")
    long steps;
    @Option(names = "--batch-size", defaultValue = "128", description = "default: ${DEFAULT-VALUE}; the last incomplete "
            + "batch of each epoch is dropped, and without --lr the learning rate scales with the batch")
    int batchSize;
    @Option(names = "--lr", description = "peak learning rate (default: --base-lr x batch / 256, the reference scaling)")
    Double lr;
    @Option(names = "--base-lr", defaultValue = "0.2",
            description = "learning rate per 256 examples (default: ${DEFAULT-VALUE}; the ImageNet recipe uses 0.1 at batch 4096)")
    double baseLr;
    @Option(names = "--warmup-epochs", defaultValue = "0.5", description = "linear warm-up before the cosine decay (default: ${DEFAULT-VALUE})")
    double warmupEpochs;
    @Option(names = "--weight-decay", defaultValue = "2e-5", description = "default: ${DEFAULT-VALUE}")
    double weightDecay;
    @Option(names = "--clipping", defaultValue = "0.1",
            description = "AGC clipping threshold, 0 disables AGC (default: ${DEFAULT-VALUE}; the paper uses 0.01 for batches of 1024-4096 and finds larger thresholds stable at small batches)")
    double clipping;
    @Option(names = "--agc-eps", defaultValue = "1e-3",
            description = "AGC's floor on a unit's weight norm: zero-initialised parameters (biases, skip gains) may move by about "
                    + "lr x clipping x eps per step (default: ${DEFAULT-VALUE}, the reference's)")
    double agcEps;
    @Option(names = "--agc-skip-gains", defaultValue = "false", negatable = true, fallbackValue = "true",
            description = "let AGC clip the zero-initialised skip gains too, as the reference does; off by default because "
                    + "it keeps the residual branches near 0 for thousands of steps (default: ${DEFAULT-VALUE})")
    boolean agcSkipGains;
    @Option(names = "--label-smoothing", defaultValue = "0.1", description = "default: ${DEFAULT-VALUE}")
    double labelSmoothing;
    @Option(names = "--ema-decay", defaultValue = "0.999", description = "EMA of the weights, 0 disables (default: ${DEFAULT-VALUE})")
    double emaDecay;
    @Option(names = "--crop-padding", defaultValue = "0",
            description = "random crop with this padding, 0 disables (default: ${DEFAULT-VALUE}; 2 cost 2.9 points of "
                    + "Fashion-MNIST accuracy after one epoch)")
    int cropPadding;
    @Option(names = "--no-flip", description = "disable random horizontal flips")
    boolean noFlip;
    @Option(names = "--tta-flip", description = "evaluate with flip test-time augmentation: average the logits of each "
            + "test image and its mirror image (reported as such)")
    boolean ttaFlip;
    @Option(names = "--mixup", defaultValue = "0", description = "MixUp/CutMix Beta alpha, 0 disables (reference: 0.2)")
    double mixup;
    @Option(names = "--randaugment", description = "RandAugment LAYERS,MAGNITUDE (reference: 4,5 for F0)")
    String randAugment;
    @Option(names = "--dropout", description = "override the model's dropout rate")
    Double dropout;
    @Option(names = "--stochastic-depth", description = "override the model's stochastic-depth rate")
    Double stochDepth;
    @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    long seed;
    @Option(names = "--run-dir", description = "output folder (default: runs/<timestamp>)")
    Path runDir;
    @Option(names = "--checkpoint-every", defaultValue = "500", description = "steps between checkpoints (default: ${DEFAULT-VALUE})")
    int checkpointEvery;
    @Option(names = "--resume", description = "continue from a checkpoint file or a run folder (keeps the frozen "
            + "parameters of the run); --lr, --base-lr, --warmup-epochs and --clipping given with it replace the checkpoint's schedule")
    Path resume;
    @Option(names = "--overwrite", description = "replace the run in --run-dir (its checkpoint and weights are deleted, its "
            + "metrics start afresh); without it a folder holding a run is refused")
    boolean overwrite;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--init-from", description = "start from pretrained weights (.npz DeepMind, .safetensors timm or native, "
            + "or a run folder; dm_nfnet_f0 .. dm_nfnet_f6: the copy 'nfnets models --download' keeps); the classifier is "
            + "re-initialised when the class count differs")
    Path initFrom;
    @Option(names = "--freeze", split = ",", description = "parameter name prefixes to freeze, e.g. stem,stages.0 "
            + "(each must match a parameter; recorded in the checkpoint, so --resume keeps them)")
    List<String> freeze;
    @Option(names = "--no-progress", description = "log lines instead of a progress bar")
    boolean noProgress;
    @Option(names = "--log-every", defaultValue = "100", description = "steps between log lines (default: ${DEFAULT-VALUE})")
    int logEvery;
    @Option(names = "--spark", paramLabel = "MASTER",
            description = "compute each step's gradients on Spark: local[N] or spark://host:7077 (needs nfnets-spark); "
                    + "exact: the same result as without, for any number of workers (docs/spark.md)")
    String spark;
    @Option(names = "--threads", defaultValue = "0",
            description = "native threads (ND4J, OpenMP, oneDNN); 0 = auto: 1 for models under 100M multiply-accumulates "
                    + "per image (nfnet-mnist: 1.8x faster per step than 2 threads on 2 cores), else all cores, unless "
                    + "OMP_NUM_THREADS is set (default: ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(spec, java.util.Set.of("--epochs", "--batch-size", "--lr", "--base-lr", "--agc-eps", "--log-every"),
                java.util.Set.of("--seed"));
        OptionChecks.checkSize(spec, "--image-size", imageSize);
        NFNetConfig mc = Models.resolve(model);
        // before loading data: a small model may restart this command with one native thread
        java.util.Optional<Integer> rerun = Threads.apply(threads, mc, imageSize == null ? mc.trainSize() : imageSize);
        if (rerun.isPresent()) {
            return rerun.get();
        }
        DataSets.Pair ds = DataSets.resolve(data, fashionDir, testData,
                DataSets.folderOptions(mc.inChannels(), channels, imageSize == null ? mc.trainSize() : imageSize, resize));
        System.out.println("data: " + DataSets.describe(ds.train()) + (ds.test() == null
                ? "; no test folder, so no evaluation (give one with --test-data, or put train/ and test/ or val/ in --data)"
                : "; test: " + DataSets.describe(ds.test())));
        if (ds.train().numClasses() < 2) {
            throw new IllegalArgumentException("the training data (" + ds.train().description() + ") has "
                    + ds.train().numClasses() + " class " + ds.train().classNames() + "; a classifier needs at least 2 classes");
        }
        if (ds.train().size() < batchSize) {
            throw new IllegalArgumentException("the training set (" + ds.train().size() + " images) is smaller than one batch of "
                    + batchSize + ": pass --batch-size " + Math.max(1, ds.train().size()) + " or less (the last incomplete batch of"
                    + " each epoch is dropped; without --lr the learning rate follows --base-lr x batch / 256)");
        }
        if (mc.numClasses() != ds.train().numClasses() || mc.inChannels() != ds.train().channels()) {
            System.out.printf("model: %s adapted to the data: %d classes, %d input channels%n", mc.name(),
                    ds.train().numClasses(), ds.train().channels());
            mc = NFNetConfig.builder(mc).numClasses(ds.train().numClasses()).inChannels(ds.train().channels()).build();
        }
        if (dropout != null || stochDepth != null) {
            NFNetConfig.Builder b = NFNetConfig.builder(mc);
            if (dropout != null) {
                b.dropRate(dropout);
            }
            if (stochDepth != null) {
                b.stochDepthRate(stochDepth);
            }
            mc = b.build();
        }
        TrainingConfig.Builder tb = TrainingConfig.builder(mc).epochs(epochs).maxSteps(steps).batchSize(batchSize)
                .warmupEpochs(warmupEpochs).baseLearningRate(baseLr).weightDecay(weightDecay).clipping(clipping).agcEps(agcEps).agcSkipGains(agcSkipGains).labelSmoothing(labelSmoothing)
                .emaDecay(emaDecay).cropPadding(cropPadding).flip(!noFlip).evalFlip(ttaFlip).mixupAlpha(mixup).seed(seed)
                .checkpointEvery(checkpointEvery);
        if (lr != null) {
            tb.learningRate(lr);
        }
        if (randAugment != null) {
            String[] p = randAugment.split(",");
            if (p.length != 2) {
                throw new IllegalArgumentException("--randaugment takes LAYERS,MAGNITUDE, e.g. 2,5");
            }
            try {
                tb.randAugment(Integer.parseInt(p[0].trim()), Double.parseDouble(p[1].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--randaugment takes LAYERS,MAGNITUDE as numbers, e.g. 2,5; got '" + randAugment + "'");
            }
            if (Integer.parseInt(p[0].trim()) < 0 || !(Double.parseDouble(p[1].trim()) >= 0)) {
                throw new IllegalArgumentException("--randaugment LAYERS and MAGNITUDE must be >= 0, got '" + randAugment + "'");
            }
        }
        TrainingConfig tc = tb.build();
        System.out.println(String.format(Locale.ROOT, "learning rate: peak %.4g", tc.peakLearningRate()) + (lr != null ? " (--lr)"
                : String.format(Locale.ROOT, " = --base-lr %s x batch %d / 256 (--lr sets it directly)", baseLr, batchSize)));
        Path checkpoint = null;
        if (resume != null) {
            checkpoint = Files.isDirectory(resume) ? resume.resolve(Trainer.CHECKPOINT_FILE) : resume;
            if (runDir == null) {
                runDir = checkpoint.toAbsolutePath().getParent();
            }
        }
        if (runDir == null) {
            runDir = Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        RunFolder.requireFresh(runDir, checkpoint != null && runDir.toAbsolutePath().normalize()
                .equals(checkpoint.toAbsolutePath().normalize().getParent()), overwrite);
        Path classesFile = runDir.resolve(CLASSES_FILE);
        if (checkpoint != null && Files.exists(classesFile)) {
            List<String> runClasses = DataSets.readClassNames(classesFile);
            ds = new DataSets.Pair(DataSets.align(ds.train(), runClasses, classesFile.toString()),
                    ds.test() == null ? null : DataSets.align(ds.test(), runClasses, classesFile.toString()), ds.trainSource());
        }
        NFNet net = new NFNet(mc, seed);
        if (initFrom != null) {
            NFNetConfig target = mc;
            Path initFile = Files.isDirectory(initFrom) ? initFrom.resolve(Trainer.WEIGHTS_FILE) : WeightsCache.resolve(initFrom);
            Weights.WeightFile wf = Weights.read(initFile);
            long fileClasses = classifierOutputs(wf, net);
            boolean newHead = fileClasses != target.numClasses();
            try {
                Weights.load(net, wf, name -> newHead && name.startsWith("classifier."));
            } catch (WeightMismatchException e) {
                throw Models.withFitHint(e, wf, target);
            }
            System.out.println("initialised from " + initFile + (newHead ? " (new classifier for " + target.numClasses() + " classes)" : ""));
        }
        net.setClassNames(ds.train().classNames());   // saved with the weights
        if (freeze != null) {
            int n = 0;
            Map<String, Parameter> named = net.namedParameters();
            for (String raw : freeze) {
                String prefix = raw.trim();
                long matches = named.keySet().stream().filter(k -> k.startsWith(prefix)).count();
                if (prefix.isEmpty() || matches == 0) {
                    throw new IllegalArgumentException("--freeze '" + raw + "' matches no parameter of " + mc.name()
                            + "; parameter names start with: " + String.join(", ", Models.namePrefixes(named.keySet())));
                }
            }
            for (Map.Entry<String, Parameter> e : named.entrySet()) {
                for (String prefix : freeze) {
                    if (e.getKey().startsWith(prefix.trim())) {
                        e.getValue().setFrozen(true);
                        n++;
                        break;
                    }
                }
            }
            System.out.println("frozen: " + n + " parameter tensors under " + freeze);
        }
        Trainer trainer = new Trainer(tc, net, ds.train(), ds.test(), runDir);
        try (RunFolder.Lock lock = RunFolder.lock(runDir)) {
            return train(trainer, ds, mc, checkpoint);
        }
    }

    private int train(Trainer trainer, DataSets.Pair ds, NFNetConfig mc, Path checkpoint) throws Exception {
        dev.nfnets.core.io.AtomicFiles.write(runDir.resolve(CLASSES_FILE),
                (String.join("\n", ds.train().classNames()) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (checkpoint != null) {
            var parsed = spec.commandLine().getParseResult();
            trainer.resume(checkpoint, lr != null || parsed.hasMatchedOption("--base-lr")
                    || parsed.hasMatchedOption("--warmup-epochs") || parsed.hasMatchedOption("--clipping"));
        }
        trainer.addListener(new CsvMetricsListener(runDir));
        trainer.addListener(new ChartListener(runDir, Math.max(1, (int) (trainer.totalSteps() / 400))));
        trainer.addListener(noProgress || System.console() == null ? new LoggingListener(logEvery) : new ProgressBarListener());
        if (!noProgress && System.console() != null) {
            trainer.addListener(new LoggingListener(Integer.MAX_VALUE));
        }
        Trainer.Result r;
        if (spark == null) {
            r = trainer.fit();
        } else {
            try (dev.nfnets.train.GradientSource g = ClusterBackend.find("--spark").training(spark, trainer, ds.trainSource())) {
                r = trainer.gradientSource(g).fit();
            }
        }
        System.out.printf(Locale.ROOT, "trained %s for %d steps in %.0f s%n", mc.name(), r.steps(), r.seconds());
        if (r.test() != null) {
            System.out.printf(Locale.ROOT, "test accuracy: top-1 %.2f%%, top-5 %.2f%% on %d images%s%n", 100 * r.test().top1(),
                    100 * r.test().top5(), r.test().examples(), (emaDecay > 0 ? " (EMA weights)" : "")
                    + (ttaFlip ? " (flip test-time augmentation)" : ""));
        }
        trainer.best().ifPresent(b -> System.out.printf(Locale.ROOT, "best test top-1 %.2f%% after epoch %d: %s%n", 100 * b.top1(),
                b.epoch() + 1, Trainer.BEST_WEIGHTS_FILE));
        System.out.println("run folder: " + runDir.toAbsolutePath());
        return 0;
    }

    private static long classifierOutputs(Weights.WeightFile wf, NFNet net) {
        var entry = wf.format().entries(net).get("classifier.bias");
        var t = entry == null ? null : wf.tensors().get(entry.external());
        return t == null ? -1 : t.shape()[0];
    }
}
