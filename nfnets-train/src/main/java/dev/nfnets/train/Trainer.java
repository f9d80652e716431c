package dev.nfnets.train;

import dev.nfnets.core.Agc;
import dev.nfnets.core.TrainStep;
import dev.nfnets.core.NFNet;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.NativeMemory;
import dev.nfnets.layers.optim.LearningRateSchedule;
import dev.nfnets.layers.optim.Optimizer;
import dev.nfnets.layers.optim.Sgd;
import dev.nfnets.train.data.Batch;
import dev.nfnets.train.data.BatchLoader;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.Seeds;
import dev.nfnets.train.data.augment.Augmentation;
import dev.nfnets.train.data.augment.HorizontalFlip;
import dev.nfnets.train.data.augment.MixUpCutMix;
import dev.nfnets.train.data.augment.RandAugment;
import dev.nfnets.train.data.augment.RandomCropWithPadding;
import dev.nfnets.train.listen.EpochMetrics;
import dev.nfnets.train.listen.StepMetrics;
import dev.nfnets.train.listen.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains an NFNet: seeded, augmented batches prepared on a background thread; forward and backward inside
 * a step scope; AGC + SGD; EMA; evaluation; atomic checkpoints; listeners. A non-finite loss or parameter
 * stops the run with a {@link DivergenceException} that names it, before anything is written, so the last
 * good checkpoint stays intact.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(TrainingConfig.builder(NFNetConfig.mnist()).epochs(5).build(), train, test, runDir);
 * trainer.addListener(new LoggingListener(50));
 * Trainer.Result r = trainer.fit();
 * }</pre>
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    public static final String CHECKPOINT_FILE = "checkpoint.safetensors";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** The weights of the epoch with the best test top-1 so far (EMA ones when EMA is on), beside the final ones. */
    public static final String BEST_WEIGHTS_FILE = "weights-best.safetensors";

    private final TrainingConfig config;
    private final NFNet model;
    private final Dataset train;
    private final Dataset test;
    private final Path runDir;
    private final BatchLoader loader;
    private final Optimizer optimizer;
    private final Agc agc;
    private final Sgd sgd;
    private final Ema ema;
    private final SoftmaxCrossEntropy loss;
    private final long totalSteps;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private GradientSource gradientSource;
    private long step;
    private Best best;

    /** The evaluation with the best test top-1 so far; its weights are in {@link #BEST_WEIGHTS_FILE}. */
    public record Best(int epoch, long step, double top1) {
    }

    /** Result of {@link #fit()}: the final evaluation (EMA weights when enabled) and where things were written. */
    public record Result(long steps, Evaluator.Result test, Path runDir, Path weights, Path checkpoint, double seconds) {
    }

    public Trainer(TrainingConfig config, Dataset train, Dataset test, Path runDir) {
        this(config, new NFNet(config.model(), config.seed()), train, test, runDir);
    }

    /** Trains the given model (e.g. initialised from pretrained weights for fine-tuning). */
    public Trainer(TrainingConfig config, NFNet model, Dataset train, Dataset test, Path runDir) {
        this.config = config;
        this.model = model;
        this.train = train;
        this.test = test;
        this.runDir = runDir;
        checkCompatible(config, train);
        if (test != null) {
            checkCompatible(config, test);
        }
        if (model.classNames().isEmpty()) {
            try {
                model.setClassNames(train.classNames());   // saved with the weights, so a classifier prints them
            } catch (IllegalArgumentException | NullPointerException e) {
                log.warn("the class names of {} are not saved with the weights: {}", train.description(), e.getMessage());
            }
        }
        this.loader = buildLoader(config, train);
        long perEpoch = loader.batchesPerEpoch();
        if (perEpoch == 0) {
            throw new IllegalArgumentException("the training set (" + train.size() + " examples) is smaller than one batch of "
                    + config.batchSize());
        }
        long planned = perEpoch * config.epochs();
        this.totalSteps = config.maxSteps() > 0 ? Math.min(config.maxSteps(), planned) : planned;
        LearningRateSchedule schedule = LearningRateSchedule.warmupCosine(config.peakLearningRate(),
                Math.min(config.warmupEpochs() * perEpoch, totalSteps), totalSteps);
        this.sgd = Sgd.builder().schedule(schedule).momentum(config.momentum()).nesterov(config.nesterov())
                .weightDecay(config.weightDecay()).build();
        this.agc = config.clipping() > 0 ? new Agc(sgd, config.clipping(), config.agcEps(), agcApplies(config)) : null;
        this.optimizer = agc != null ? agc : sgd;
        this.ema = config.emaDecay() > 0 ? new Ema(model.namedParameters(), config.emaDecay()).useOptions(model.options()) : null;
        this.loss = new SoftmaxCrossEntropy(config.labelSmoothing());
    }

    /** AGC's parameter filter: never the classifier weight (the reference), and not the skip gains when so configured. */
    static java.util.function.Predicate<Parameter> agcApplies(TrainingConfig c) {
        return c.agcSkipGains() ? Agc.REFERENCE_FILTER
                : Agc.REFERENCE_FILTER.and(p -> !p.hasTag(dev.nfnets.layers.Tag.SKIP_GAIN));
    }

    private static void checkCompatible(TrainingConfig c, Dataset d) {
        if (d.channels() != c.model().inChannels()) {
            throw new IllegalArgumentException("dataset " + d.description() + " has " + d.channels()
                    + " channels but the model expects " + c.model().inChannels());
        }
        if (d.numClasses() != c.model().numClasses()) {
            throw new IllegalArgumentException("dataset " + d.description() + " has " + d.numClasses()
                    + " classes but the model has " + c.model().numClasses() + " outputs");
        }
    }

    /**
     * The batches a training run with configuration {@code c} draws from {@code train}: a data-parallel worker
     * builds the same loader to prepare its shard of each step's batch.
     */
    public static BatchLoader buildLoader(TrainingConfig c, Dataset train) {
        List<Augmentation> steps = new ArrayList<>();
        float fill = train.normalization().normalize(0, 0f);
        if (c.cropPadding() > 0) {
            steps.add(new RandomCropWithPadding(c.cropPadding(), fill));
        }
        if (c.flip()) {
            steps.add(new HorizontalFlip(0.5));
        }
        RandAugment ra = c.randAugmentLayers() > 0
                ? RandAugment.scaledTo(c.randAugmentLayers(), c.randAugmentMagnitude(), train.normalization(), train.width()) : null;
        if (ra != null && c.mixupAlpha() == 0) {
            steps.add(ra);
        }
        BatchLoader.Builder b = BatchLoader.builder(train).batchSize(c.batchSize()).seed(c.seed()).shuffle(true).dropLast(true)
                .augmentation(Augmentation.compose(steps.toArray(new Augmentation[0])));
        if (c.mixupAlpha() > 0) {
            b.mixer(new MixUpCutMix(c.mixupAlpha(), MixUpCutMix.Mode.PERMUTATION));
            if (ra != null) {
                b.postMixAugmentation(ra);   // the reference applies RandAugment after MixUp/CutMix
            }
        }
        return b.build();
    }

    /**
     * Computes each step's gradients with {@code source} (e.g. on a Spark cluster) instead of in this JVM; the
     * update, listeners and checkpoints stay here. Null restores local computation.
     */
    public Trainer gradientSource(GradientSource source) {
        this.gradientSource = source;
        return this;
    }

    /** The training batches (the source of truth for what a {@link GradientSource} must compute). */
    public BatchLoader loader() {
        return loader;
    }

    /** The configuration of this run. */
    public TrainingConfig config() {
        return config;
    }

    /** Seed of the stochastic layers in step {@code step} (0-based) of a run with seed {@code seed}. */
    public static long stepSeed(long seed, long step) {
        return Seeds.derive(seed, 0x5EED, step);
    }

    public Trainer addListener(TrainingListener l) {
        listeners.add(l);
        return this;
    }

    public NFNet model() {
        return model;
    }

    public long totalSteps() {
        return totalSteps;
    }

    public long step() {
        return step;
    }

    /** The best evaluation so far (also of a resumed run's earlier part), if any ran. */
    public java.util.Optional<Best> best() {
        return java.util.Optional.ofNullable(best);
    }

    public Path checkpointFile() {
        return runDir.resolve(CHECKPOINT_FILE);
    }

    /** Continues from a checkpoint written by this trainer configuration. */
    public void resume(Path checkpoint) throws IOException {
        resume(checkpoint, false);
    }

    /**
     * Continues from a checkpoint; with {@code newSchedule} the learning rate, warm-up and AGC clipping may differ
     * from the checkpoint's (given explicitly, e.g. a lower {@code --lr} after a divergence): the optimizer state is
     * kept and the new schedule applies from the checkpoint's step on.
     */
    public void resume(Path checkpoint, boolean newSchedule) throws IOException {
        Checkpoint.State s = Checkpoint.read(checkpoint);
        if (!s.config().model().equals(config.model())) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was written for a different model: "
                    + s.config().model() + " vs " + config.model());
        }
        checkResumable(s.config(), config, checkpoint, newSchedule);
        Checkpoint.restoreModel(model, s.model(), checkpoint);
        restoreFrozen(s.frozen(), checkpoint);
        optimizer.loadState(s.optimizer());
        sgd.validateState(model.namedParameters());
        optimizer.setStepCount(s.step());
        if (ema != null && !s.ema().isEmpty()) {
            ema.load(s.ema());
        }
        step = s.step();
        String b = s.metadata().get("best");
        if (b != null) {
            String[] p = b.split(",");
            best = new Best(Integer.parseInt(p[0]), Long.parseLong(p[1]), Double.parseDouble(p[2]));
        }
        log.info("resumed from {} at step {}", checkpoint, step);
    }

    /**
     * Freezes what the checkpoint's run froze. A model that already has frozen parameters (e.g. {@code --freeze} given
     * again) must have exactly those.
     */
    private void restoreFrozen(java.util.Set<String> frozen, Path checkpoint) {
        Map<String, Parameter> params = model.namedParameters();
        java.util.Set<String> now = new java.util.LinkedHashSet<>();
        params.forEach((k, p) -> {
            if (p.isFrozen()) {
                now.add(k);
            }
        });
        if (!now.isEmpty() && !now.equals(frozen)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was trained with " + frozen.size()
                    + " frozen parameter tensors" + (frozen.isEmpty() ? "" : " (" + String.join(", ", frozen) + ")")
                    + ", not the " + now.size() + " frozen now; resume without --freeze to keep the run's");
        }
        for (String name : frozen) {
            Parameter p = params.get(name);
            if (p == null) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " freezes '" + name + "', which the model lacks");
            }
            p.setFrozen(true);
        }
        if (now.isEmpty() && !frozen.isEmpty()) {
            log.info("keeping the {} frozen parameter tensors of {}", frozen.size(), checkpoint);
        }
    }

    /** Deletes temp files left by saves that were killed midway ({@code .<name>.<random>.tmp}). */
    static void removeStaleTempFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(p)) {   // any file of the run: charts, classes too
                    Files.deleteIfExists(p);
                    log.info("removed {} left by an interrupted save", p);
                }
            }
        }
    }

    /**
     * A resumed run continues exactly only with the same settings. The length of the run (epochs, max steps)
     * and the checkpoint/evaluation intervals may change, with a warning, since the schedule then differs;
     * any other difference is an error.
     */
    static void checkResumable(TrainingConfig saved, TrainingConfig now, Path checkpoint) {
        checkResumable(saved, now, checkpoint, false);
    }

    /** As above; with {@code newSchedule} the learning rate, warm-up and clipping may change too (with a warning). */
    static void checkResumable(TrainingConfig saved, TrainingConfig now, Path checkpoint, boolean newSchedule) {
        TrainingConfig a = saved.toBuilder().epochs(1).maxSteps(0).checkpointEvery(0).evalEveryEpochs(0).build();
        TrainingConfig b = now.toBuilder().epochs(1).maxSteps(0).checkpointEvery(0).evalEveryEpochs(0).build();
        if (newSchedule) {
            b = b.toBuilder().learningRate(a.learningRate()).baseLearningRate(a.baseLearningRate())
                    .warmupEpochs(a.warmupEpochs()).clipping(a.clipping()).build();
            if (saved.peakLearningRate() != now.peakLearningRate() || saved.warmupEpochs() != now.warmupEpochs()
                    || saved.clipping() != now.clipping()) {
                log.warn("resuming with a new schedule: peak learning rate {} -> {}, warm-up epochs {} -> {}, AGC clipping {} -> {}",
                        saved.peakLearningRate(), now.peakLearningRate(), saved.warmupEpochs(), now.warmupEpochs(),
                        saved.clipping(), now.clipping());
            }
        }
        if (!a.equals(b)) {
            List<String> diff = new ArrayList<>();
            String[] x = a.toJson().split("\n");
            String[] y = b.toJson().split("\n");
            for (int i = 0; i < Math.min(x.length, y.length); i++) {
                if (!x[i].equals(y[i])) {
                    diff.add(x[i].trim() + " -> " + y[i].trim());
                }
            }
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was written with other training settings; "
                    + "resume with the same ones: " + String.join("; ", diff)
                    + (newSchedule ? "" : " (the learning rate, warm-up and clipping may change when given explicitly)"));
        }
        if (saved.epochs() != now.epochs() || saved.maxSteps() != now.maxSteps()) {
            log.warn("resuming with a different run length (epochs {} -> {}, max steps {} -> {}): the learning-rate schedule"
                    + " changes, so this is not an exact continuation", saved.epochs(), now.epochs(), saved.maxSteps(), now.maxSteps());
        }
    }

    public Result fit() throws IOException {
        Files.createDirectories(runDir);
        removeStaleTempFiles(runDir);
        long perEpoch = loader.batchesPerEpoch();
        long t0 = System.nanoTime();
        Map<String, Parameter> params = model.namedParameters();
        listeners.forEach(l -> l.onStart(step, totalSteps));
        log.info("training {} ({} parameters) for {} steps, batch {}, peak lr {}, {}; data: {}", config.model().name(),
                model.parameterCount(), totalSteps, config.batchSize(), config.peakLearningRate(),
                agc != null ? "AGC clipping " + config.clipping() : "no AGC", train.description());
        Throwable failure = null;
        Evaluator.Result lastEval = null;
        long lastEvalStep = -1;
        try {
            while (step < totalSteps) {
                int epoch = (int) (step / perEpoch);
                int startBatch = (int) (step % perEpoch);
                double lossSum = 0;
                double accSum = 0;
                int n = 0;
                GradientSource remote = gradientSource;
                // with a gradient source the batches are prepared where the gradients are computed: no loader thread here
                try (BatchLoader.BatchIterator it = remote == null ? loader.iterator(epoch, startBatch) : null) {
                    int batchIndex = startBatch;
                    while ((remote == null ? it.hasNext() : batchIndex < perEpoch) && step < totalSteps) {
                        long ts = System.nanoTime();
                        double lr = optimizer.currentLearningRate();   // the rate this step uses
                        double[] la;
                        int size;
                        if (remote == null) {
                            Batch batch = it.next();
                            size = batch.size();
                            try {
                                la = trainStep(batch, params);
                            } finally {
                                release(batch);
                            }
                        } else {
                            GradientSource.Outcome o = remote.computeGradients(step, stepSeed(config.seed(), step), epoch,
                                    batchIndex, params);
                            size = o.examples();
                            la = applyUpdate(o.loss(), o.accuracy(), params);
                        }
                        batchIndex++;
                        step++;
                        NativeMemory.collectEvery(step, NativeMemory.DEFAULT_EVERY);
                        lossSum += la[0];
                        accSum += la[1];
                        n++;
                        double secs = (System.nanoTime() - ts) / 1e9;
                        StepMetrics m = new StepMetrics(step, totalSteps, epoch, la[0], la[1], lr,
                                size / secs, agc == null ? Double.NaN : agc.lastStats().clippedFraction(),
                                agc == null ? Double.NaN : agc.lastStats().maxRatio(), (System.nanoTime() - t0) / 1e9);
                        listeners.forEach(l -> l.onStep(m));
                        if (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0 && step < totalSteps) {
                            saveCheckpoint();
                        }
                    }
                }
                boolean epochDone = step % perEpoch == 0 || step == totalSteps;
                if (epochDone) {
                    boolean evalNow = test != null && (step == totalSteps
                            || (config.evalEveryEpochs() > 0 && (epoch + 1) % config.evalEveryEpochs() == 0));
                    Evaluator.Result r = evalNow ? evaluate() : null;
                    if (r != null) {
                        lastEval = r;
                        lastEvalStep = step;
                        if (best == null || r.top1() > best.top1()) {
                            best = new Best(epoch, step, r.top1());
                            Checkpoint.exportWeights(runDir.resolve(BEST_WEIGHTS_FILE), model, ema);
                            log.info("best test top-1 so far ({}%, epoch {}): weights in {}", String.format(java.util.Locale.ROOT,
                                    "%.2f", 100 * r.top1()), epoch + 1, BEST_WEIGHTS_FILE);
                        }
                    }
                    EpochMetrics em = new EpochMetrics(epoch, step, n == 0 ? Double.NaN : lossSum / n, n == 0 ? Double.NaN : accSum / n,
                            r == null ? Double.NaN : r.top1(), r == null ? Double.NaN : r.top5(), r == null ? Double.NaN : r.loss(),
                            ema != null, (System.nanoTime() - t0) / 1e9);
                    listeners.forEach(l -> l.onEpoch(em));
                }
            }
            saveCheckpoint();
            Path weights = runDir.resolve(WEIGHTS_FILE);
            Checkpoint.exportWeights(weights, model, ema);
            // the last epoch's evaluation is of these very weights: not run twice
            Evaluator.Result finalEval = test == null ? null : lastEvalStep == step ? lastEval : evaluate();
            double secs = (System.nanoTime() - t0) / 1e9;
            if (finalEval != null) {
                log.info("final test evaluation{}{}: {}", ema != null ? " (EMA weights)" : "",
                        config.evalFlip() ? " (flip test-time augmentation)" : "", finalEval);
            }
            return new Result(step, finalEval, runDir, weights, checkpointFile(), secs);
        } catch (RuntimeException | IOException | Error e) {
            failure = e;
            throw e;
        } finally {
            Throwable f = failure;
            listeners.forEach(l -> l.onEnd(step, f));
        }
    }

    /** Evaluates on the test set with the EMA weights when EMA is on (and flip test-time augmentation when configured). */
    public Evaluator.Result evaluate() {
        Map<String, Parameter> params = model.namedParameters();
        Map<String, INDArray> raw = ema == null ? null : ema.swapIn(params);
        try {
            return Evaluator.evaluate(model, test, Math.max(config.batchSize(), 100), config.evalFlip());
        } finally {
            if (raw != null) {
                Ema.restore(params, raw);
            }
        }
    }

    /** The first parameter (in model order) holding a NaN or infinity, as an exception to throw. */
    private java.util.Optional<DivergenceException> firstNonFiniteParameter(Map<String, Parameter> params) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            double s = e.getValue().value().sumNumber().doubleValue();
            if (!Double.isFinite(s)) {
                return java.util.Optional.of(new DivergenceException(step, "parameter " + e.getKey(), s));
            }
        }
        return java.util.Optional.empty();
    }

    private void saveCheckpoint() throws IOException {
        // never replace the last good checkpoint with a diverged state
        java.util.Optional<DivergenceException> bad = firstNonFiniteParameter(model.namedParameters());
        if (bad.isPresent()) {
            throw bad.get();
        }
        Path file = checkpointFile();
        Checkpoint.save(file, step, config, model, optimizer, ema, best == null ? Map.of()
                : Map.of("best", best.epoch() + "," + best.step() + "," + best.top1()));
        listeners.forEach(l -> l.onCheckpoint(step, file));
    }

    /** One step; returns {loss, batch accuracy}. {@code step} is the 0-based index of this step. */
    private double[] trainStep(Batch batch, Map<String, Parameter> params) {
        stepLabels = batch.labels();
        TrainStep.Result r = stepper(params).run(batch.images(), batch.targets(), stepSeed(config.seed(), step));
        return new double[] {r.loss(), stepAccuracy};
    }

    private TrainStep stepper;
    private int[] stepLabels;
    private double stepAccuracy;

    /** The step, built once: its hooks check the loss, measure accuracy, call the listeners and update the EMA. */
    private TrainStep stepper(Map<String, Parameter> params) {
        if (stepper == null) {
            stepper = TrainStep.builder(model, optimizer).loss(loss).scope("train")
                    .afterLoss((logits, r) -> {
                        if (!Double.isFinite(r.loss())) {
                            // a parameter that went non-finite in the last update shows up here first: name it
                            throw firstNonFiniteParameter(params).orElse(new DivergenceException(step, "loss", r.loss()));
                        }
                        stepAccuracy = accuracy(logits, stepLabels);
                    })
                    .afterGradients(p -> listeners.forEach(l -> l.afterGradients(step, p)))
                    .afterUpdate(p -> {
                        if (agc != null) {
                            listeners.forEach(l -> l.onAgc(agc.lastStats()));
                        }
                        if (ema != null) {
                            ema.update(p, step);
                        }
                    })
                    .build();
        }
        return stepper;
    }

    /** The update of a step whose gradients a {@link GradientSource} wrote into the parameters. */
    private double[] applyUpdate(double meanLoss, double acc, Map<String, Parameter> params) {
        if (!Double.isFinite(meanLoss)) {
            throw firstNonFiniteParameter(params).orElse(new DivergenceException(step, "loss", meanLoss));
        }
        stepper(params).applyAccumulated();
        return new double[] {meanLoss, acc};
    }

    /**
     * Frees a batch's native memory now. Batches are made outside any workspace (on the loader thread), and
     * ND4J would otherwise free them only when the GC collects their small Java wrappers: resident memory
     * then grows by a few hundred KB per step.
     */
    static void release(Batch batch) {
        if (batch.images().closeable()) {
            batch.images().close();
        }
        if (batch.targets().closeable()) {
            batch.targets().close();
        }
    }

    private static double accuracy(INDArray logits, int[] labels) {
        INDArray pred = logits.argMax(1);
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (pred.getInt(i) == labels[i]) {
                correct++;
            }
        }
        return (double) correct / labels.length;
    }
}
