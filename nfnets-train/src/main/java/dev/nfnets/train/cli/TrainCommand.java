package dev.nfnets.train.cli;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.layers.Parameter;
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
        description = {"Train (or fine-tune) an NFNet and evaluate it. With no options: the small 'mnist' NFNet on",
                "Fashion-MNIST (the full set if /usr/share/datasets/fashion-mnist exists, else the embedded subset).",
                "Writes checkpoint.safetensors, weights.safetensors, metrics.csv, eval.csv and curves.png into the run folder."})
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
    @Option(names = "--model", defaultValue = "mnist", description = "f0..f7, mnist, or a config JSON file (default: ${DEFAULT-VALUE})")
    String model;
    @Option(names = "--epochs", defaultValue = "10", description = "default: ${DEFAULT-VALUE}")
    int epochs;
    @Option(names = "--steps", defaultValue = "0", description = "stop after this many steps (0: all epochs)")
    long steps;
    @Option(names = "--batch-size", defaultValue = "128", description = "default: ${DEFAULT-VALUE}")
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
    @Option(names = "--resume", description = "continue from a checkpoint file or a run folder")
    Path resume;
    @Option(names = "--init-from", description = "start from pretrained weights (.npz DeepMind, .safetensors timm or native); "
            + "the classifier is re-initialised when the class count differs")
    Path initFrom;
    @Option(names = "--freeze", split = ",", description = "parameter name prefixes to freeze, e.g. stem,stages.0")
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
        NFNetConfig mc = Models.resolve(model);
        // before loading data: a small model may restart this command with one native thread
        java.util.Optional<Integer> rerun = Threads.apply(threads, mc, imageSize == null ? mc.trainSize() : imageSize);
        if (rerun.isPresent()) {
            return rerun.get();
        }
        DataSets.Pair ds = DataSets.resolve(data, fashionDir, testData, imageSize == null ? mc.trainSize() : imageSize);
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
            tb.randAugment(Integer.parseInt(p[0].trim()), Double.parseDouble(p[1].trim()));
        }
        TrainingConfig tc = tb.build();
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
        NFNet net = new NFNet(mc, seed);
        if (initFrom != null) {
            NFNetConfig target = mc;
            Weights.WeightFile wf = Weights.read(initFrom);
            long fileClasses = classifierOutputs(wf, net);
            boolean newHead = fileClasses != target.numClasses();
            Weights.load(net, wf, name -> newHead && name.startsWith("classifier."));
            System.out.println("initialised from " + initFrom + (newHead ? " (new classifier for " + target.numClasses() + " classes)" : ""));
        }
        if (freeze != null) {
            int n = 0;
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
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
        Files.createDirectories(runDir);
        dev.nfnets.core.io.AtomicFiles.write(runDir.resolve(CLASSES_FILE),
                (String.join("\n", ds.train().classNames()) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (checkpoint != null) {
            trainer.resume(checkpoint);
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
        System.out.println("run folder: " + runDir.toAbsolutePath());
        return 0;
    }

    private static long classifierOutputs(Weights.WeightFile wf, NFNet net) {
        var entry = wf.format().entries(net).get("classifier.bias");
        var t = entry == null ? null : wf.tensors().get(entry.external());
        return t == null ? -1 : t.shape()[0];
    }
}
