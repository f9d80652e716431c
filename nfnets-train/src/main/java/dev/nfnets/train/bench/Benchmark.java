package dev.nfnets.train.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.nfnets.core.Agc;
import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.TrainStep;
import dev.nfnets.layers.LayerProfiler;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import dev.nfnets.layers.optim.Sgd;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Speed and memory benchmark of one NFNet on random data: a few warm-up steps, then timed steps, reporting
 * the median time per step, images per second, the achieved arithmetic rate and the process's resident
 * memory.
 *
 * <ul>
 *   <li>{@link Kind#FORWARD}: one {@code forward(x, EVAL)} per step.</li>
 *   <li>{@link Kind#TRAIN}: a full training step: {@code forward(x, TRAIN)}, softmax cross-entropy with
 *       label smoothing 0.1 on fixed random labels, {@code backward}, AGC (0.01, 1e-3) around SGD (Nesterov
 *       0.9, weight decay 2e-5), {@code zeroGrad}. Every step runs inside one {@link StepScope}.</li>
 * </ul>
 * The input is one fixed batch drawn from N(0, 1) with a fixed seed. Achieved GFLOP/s counts
 * {@code 2 * MACs(model at size) * batch} per forward pass (MACs from {@link ModelSummary}, the reference's
 * convention: convolutions, SE and classifier only) and three forward passes' worth per training step.
 *
 * <p>Memory comes from {@code /proc/self/status} (Linux only, else -1): {@code VmHWM} is the peak resident
 * set of the whole process since it started (JVM, heap, native libraries and ND4J buffers included),
 * {@code VmRSS} the current one.
 *
 * <pre>{@code
 * Benchmark.Result r = Benchmark.run(Benchmark.Options.builder(NFNetConfig.f0())
 *         .batch(8).size(192).kind(Benchmark.Kind.TRAIN).warmup(3).steps(10).build());
 * System.out.println(r.imagesPerSecond() + " img/s, peak " + r.vmHwmBytes() + " B");
 * System.out.println(Benchmark.toJson(r.toMap()));
 * }</pre>
 */
public final class Benchmark {
    private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);

    /** Label smoothing, AGC and SGD settings of the timed training step (the NFNet reference recipe). */
    public static final double LABEL_SMOOTHING = 0.1;
    public static final double LEARNING_RATE = 0.1;
    public static final double MOMENTUM = 0.9;
    public static final double WEIGHT_DECAY = 2e-5;

    private Benchmark() {
    }

    /** What one timed step does. */
    public enum Kind {
        FORWARD, TRAIN;

        /** Forward-pass equivalents of one step: 1 for inference, 3 for forward + backward (input and weight grads). */
        public int flopFactor() {
            return this == FORWARD ? 1 : 3;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String s) {
            String n = s.trim().toLowerCase(Locale.ROOT);
            return switch (n) {
                case "forward", "fwd", "eval", "inference" -> FORWARD;
                case "train", "training" -> TRAIN;
                default -> throw new IllegalArgumentException("unknown benchmark mode '" + s + "'; known: forward, train");
            };
        }
    }

    /** Benchmark settings; build with {@link #builder(NFNetConfig)}. */
    public record Options(NFNetConfig config, int batch, int size, Kind kind, int warmup, int steps, long seed) {
        public Options {
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(kind, "kind");
            if (batch <= 0 || size <= 0) {
                throw new IllegalArgumentException("batch and size must be positive, got batch=" + batch + ", size=" + size);
            }
            if (warmup < 0 || steps <= 0) {
                throw new IllegalArgumentException("warmup must be >= 0 and steps > 0, got warmup=" + warmup + ", steps=" + steps);
            }
        }

        public static Builder builder(NFNetConfig config) {
            return new Builder(config);
        }

        public Options withKind(Kind k) {
            return new Options(config, batch, size, k, warmup, steps, seed);
        }

        public Options withSteps(int n) {
            return new Options(config, batch, size, kind, warmup, n, seed);
        }

        public static final class Builder {
            private final NFNetConfig config;
            private int batch = 8;
            private int size = -1;
            private Kind kind = Kind.FORWARD;
            private int warmup = 3;
            private int steps = 10;
            private long seed = 42;

            private Builder(NFNetConfig config) {
                this.config = config;
            }

            public Builder batch(int v) { batch = v; return this; }
            /** Square input size in pixels (default: the variant's training size). */
            public Builder size(int v) { size = v; return this; }
            public Builder kind(Kind v) { kind = v; return this; }
            public Builder warmup(int v) { warmup = v; return this; }
            public Builder steps(int v) { steps = v; return this; }
            public Builder seed(long v) { seed = v; return this; }

            public Options build() {
                return new Options(config, batch, size > 0 ? size : config.trainSize(), kind, warmup, steps, seed);
            }
        }
    }

    /** Threads and native backend as seen by this process. */
    public record Environment(int availableProcessors, int nd4jMaxThreads, int nd4jMaxMasterThreads, String ompNumThreads,
                              String ompWaitPolicy, boolean oneDnn, String javaVersion, long maxHeapBytes) {
        public static Environment current() {
            org.nd4j.linalg.factory.Environment env = Nd4j.getEnvironment();
            return new Environment(Runtime.getRuntime().availableProcessors(), env.maxThreads(), env.maxMasterThreads(),
                    Objects.requireNonNullElse(NFNetsOptions.Process.env("OMP_NUM_THREADS"), ""),
                    Objects.requireNonNullElse(NFNetsOptions.Process.env("OMP_WAIT_POLICY"), ""), hasOneDnn(),
                    NFNetsOptions.Process.jvm("java.version"), Runtime.getRuntime().maxMemory());
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("available_processors", availableProcessors);
            m.put("nd4j_max_threads", nd4jMaxThreads);
            m.put("nd4j_max_master_threads", nd4jMaxMasterThreads);
            m.put("omp_num_threads_env", ompNumThreads);
            m.put("omp_wait_policy_env", ompWaitPolicy);
            m.put("onednn", oneDnn);
            m.put("java_version", javaVersion);
            m.put("max_heap_bytes", maxHeapBytes);
            return m;
        }
    }

    /** The result of {@link #run}. Times are milliseconds; memory is bytes (-1 where unavailable). */
    public record Result(Options options, String model, long params, long macsPerImage, double setupMillis,
                         double[] stepMillis, Map<String, Double> phaseMillis, double lastLoss, long vmHwmBytes, long vmRssBytes, long vmRssAfterWarmupBytes,
                         long workspaceBytes, Environment environment, List<LayerProfiler.Entry> layerProfile) {

        public Result {
            layerProfile = layerProfile == null ? List.of() : List.copyOf(layerProfile);
        }

        public double medianMillis() {
            return median(stepMillis);
        }

        public double meanMillis() {
            return Arrays.stream(stepMillis).average().orElse(Double.NaN);
        }

        public double minMillis() {
            return Arrays.stream(stepMillis).min().orElse(Double.NaN);
        }

        public double maxMillis() {
            return Arrays.stream(stepMillis).max().orElse(Double.NaN);
        }

        public double imagesPerSecond() {
            return options.batch() * 1000.0 / medianMillis();
        }

        /** Floating-point operations of one step: {@code 2 * MACs * batch * flopFactor}. */
        public double flopsPerStep() {
            return 2.0 * macsPerImage * options.batch() * options.kind().flopFactor();
        }

        public double gflopsPerSecond() {
            return flopsPerStep() / (medianMillis() * 1e-3) / 1e9;
        }

        /** Every field, snake_case keys, in a stable order (the {@code --json} output). */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("impl", "nfnets-java");
            m.put("model", model);
            m.put("mode", options.kind().label());
            m.put("batch", options.batch());
            m.put("size", options.size());
            m.put("warmup", options.warmup());
            m.put("steps", options.steps());
            m.put("seed", options.seed());
            m.put("params", params);
            m.put("macs_per_image", macsPerImage);
            m.put("setup_ms", round(setupMillis));
            m.put("median_ms", round(medianMillis()));
            m.put("mean_ms", round(meanMillis()));
            m.put("min_ms", round(minMillis()));
            m.put("max_ms", round(maxMillis()));
            m.put("images_per_sec", imagesPerSecond());
            m.put("gflops_per_sec", gflopsPerSecond());
            m.put("last_loss", Double.isNaN(lastLoss) ? null : lastLoss);
            m.put("peak_rss_bytes", vmHwmBytes);
            m.put("rss_bytes", vmRssBytes);
            m.put("rss_after_warmup_bytes", vmRssAfterWarmupBytes);
            m.put("workspace_bytes", workspaceBytes);
            m.put("step_ms", Arrays.stream(stepMillis).map(Benchmark::round).toArray());
            m.put("phases_ms", orderedPhases());
            if (!layerProfile.isEmpty()) {
                List<Map<String, Object>> rows = new java.util.ArrayList<>();
                int n = stepMillis.length;
                for (LayerProfiler.Entry e : layerProfile) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("layer", e.key());
                    row.put("forward_calls_per_step", (double) e.forwardCalls() / n);
                    row.put("forward_ms_per_step", round(e.forwardNanos() / 1e6 / n));
                    row.put("backward_calls_per_step", (double) e.backwardCalls() / n);
                    row.put("backward_ms_per_step", round(e.backwardNanos() / 1e6 / n));
                    rows.add(row);
                }
                m.put("layer_profile", rows);
                m.put("layer_profile_total_ms_per_step", round(profiledMillisPerStep()));
            }
            m.put("env", environment.toMap());
            return m;
        }

        /** Self time of all profiled layers per timed step (mean), ms; 0 without a profile. */
        public double profiledMillisPerStep() {
            long t = 0;
            for (LayerProfiler.Entry e : layerProfile) {
                t += e.totalNanos();
            }
            return t / 1e6 / stepMillis.length;
        }

        /** The layer profile as a table: the {@code top} largest entries, then the totals. */
        public String renderProfile(int top) {
            StringBuilder sb = new StringBuilder();
            int n = stepMillis.length;
            double step = meanMillis();
            sb.append(String.format(Locale.ROOT, "layer profile (self time per step, mean of %d timed steps; step mean %.1f ms):%n", n, step));
            sb.append(String.format(Locale.ROOT, "%8s %8s %8s %6s  %s%n", "fwd ms", "bwd ms", "calls", "%step", "layer (input shape)"));
            int shown = 0;
            for (LayerProfiler.Entry e : layerProfile) {
                if (shown++ == top) {
                    sb.append(String.format(Locale.ROOT, "%8s %8s %8s %6s  ... %d more%n", "", "", "", "", layerProfile.size() - top));
                    break;
                }
                double f = e.forwardNanos() / 1e6 / n;
                double b = e.backwardNanos() / 1e6 / n;
                sb.append(String.format(Locale.ROOT, "%8.1f %8.1f %8.1f %5.1f%%  %s%n", f, b, (double) e.forwardCalls() / n,
                        100 * (f + b) / step, e.key()));
            }
            double total = profiledMillisPerStep();
            sb.append(String.format(Locale.ROOT, "profiled layers %.1f ms per step (%.1f%%); outside them (residual arithmetic, loss,"
                    + " optimizer, scopes) %.1f ms%n", total, 100 * total / step, step - total));
            return sb.toString();
        }

        /** Median milliseconds of each phase of a step (forward, loss_backward, agc_sgd_zero_grad, scope_close). */
        public Map<String, Double> orderedPhases() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String k : new String[] {"forward", "loss_backward", "agc_sgd_zero_grad", "scope_close"}) {
                if (phaseMillis.containsKey(k)) {
                    m.put(k, round(phaseMillis.get(k)));
                }
            }
            return m;
        }

        /** A few human-readable lines. */
        public String render() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "model %s, mode %s, batch %d, size %d px, %d warm-up + %d timed steps%n",
                    model, options.kind().label(), options.batch(), options.size(), options.warmup(), options.steps()));
            sb.append(String.format(Locale.ROOT, "params %,d, %.3f GMAC/image at %d px, setup %.0f ms%n",
                    params, macsPerImage / 1e9, options.size(), setupMillis));
            sb.append(String.format(Locale.ROOT, "step ms: median %.1f, mean %.1f, min %.1f, max %.1f%n",
                    medianMillis(), meanMillis(), minMillis(), maxMillis()));
            sb.append(String.format(Locale.ROOT, "throughput: %.2f images/s, %.1f GFLOP/s achieved%n",
                    imagesPerSecond(), gflopsPerSecond()));
            StringBuilder ph = new StringBuilder();
            orderedPhases().forEach((k, v) -> ph.append(ph.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(String.format(Locale.ROOT, "%.1f", v)));
            sb.append("phase medians ms: ").append(ph).append(System.lineSeparator());
            if (!Double.isNaN(lastLoss)) {
                sb.append(String.format(Locale.ROOT, "last loss: %.4f%n", lastLoss));
            }
            sb.append(String.format(Locale.ROOT, "memory: peak RSS (VmHWM, whole process) %s, RSS now %s, RSS after warm-up %s,"
                            + " step workspace %s%n", mib(vmHwmBytes), mib(vmRssBytes), mib(vmRssAfterWarmupBytes), mib(workspaceBytes)));
            sb.append(renderEnvironment(environment));
            if (!layerProfile.isEmpty()) {
                sb.append(renderProfile(30));
            }
            return sb.toString();
        }
    }

    /**
     * One memory sample of a soak run: resident set (VmRSS), Java heap in use and committed (the committed heap is
     * part of the RSS once touched, so RSS growth up to the heap limit can be the JVM's, not ND4J's), this step's time.
     */
    public record Sample(int step, long rssBytes, long heapUsedBytes, long heapCommittedBytes, double stepMillis) {
    }

    /** The result of {@link #soak}: resident memory sampled every few training steps. */
    public record SoakResult(Options options, String model, int sampleEvery, List<Sample> samples, double medianMillis,
                             double lastLoss, long vmHwmBytes, Environment environment) {

        public long firstRssBytes() {
            return samples.isEmpty() ? -1 : samples.get(0).rssBytes();
        }

        public long maxRssBytes() {
            return samples.stream().mapToLong(Sample::rssBytes).max().orElse(-1);
        }

        public long lastRssBytes() {
            return samples.isEmpty() ? -1 : samples.get(samples.size() - 1).rssBytes();
        }

        /** Max minus first sample after warm-up (bytes). */
        public long growthBytes() {
            return maxRssBytes() - firstRssBytes();
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("impl", "nfnets-java");
            m.put("model", model);
            m.put("mode", "soak");
            m.put("batch", options.batch());
            m.put("size", options.size());
            m.put("warmup", options.warmup());
            m.put("steps", options.steps());
            m.put("sample_every", sampleEvery);
            m.put("median_ms", round(medianMillis));
            m.put("images_per_sec", options.batch() * 1000.0 / medianMillis);
            m.put("last_loss", Double.isNaN(lastLoss) ? null : lastLoss);
            m.put("first_rss_bytes", firstRssBytes());
            m.put("max_rss_bytes", maxRssBytes());
            m.put("last_rss_bytes", lastRssBytes());
            m.put("growth_bytes", growthBytes());
            m.put("peak_rss_bytes", vmHwmBytes);
            List<Map<String, Object>> s = new ArrayList<>();
            for (Sample x : samples) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("step", x.step());
                e.put("rss_bytes", x.rssBytes());
                e.put("heap_used_bytes", x.heapUsedBytes());
                e.put("heap_committed_bytes", x.heapCommittedBytes());
                e.put("step_ms", round(x.stepMillis()));
                s.add(e);
            }
            m.put("samples", s);
            m.put("env", environment.toMap());
            return m;
        }

        public String render() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "soak: model %s, batch %d, size %d px, %d warm-up + %d train steps, RSS every %d steps%n",
                    model, options.batch(), options.size(), options.warmup(), options.steps(), sampleEvery));
            sb.append(String.format(Locale.ROOT, "%8s %12s %12s %14s %10s%n", "step", "RSS", "heap used", "heap committed",
                    "step ms"));
            for (Sample x : samples) {
                sb.append(String.format(Locale.ROOT, "%8d %12s %12s %14s %10.1f%n", x.step(), mib(x.rssBytes()), mib(x.heapUsedBytes()),
                        mib(x.heapCommittedBytes()), x.stepMillis()));
            }
            sb.append(String.format(Locale.ROOT, "RSS first after warm-up %s, max %s, last %s, growth %s; peak (VmHWM) %s%n",
                    mib(firstRssBytes()), mib(maxRssBytes()), mib(lastRssBytes()), mib(growthBytes()), mib(vmHwmBytes)));
            sb.append(String.format(Locale.ROOT, "median step %.1f ms (%.2f images/s), last loss %.4f%n",
                    medianMillis, options.batch() * 1000.0 / medianMillis, lastLoss));
            sb.append(renderEnvironment(environment));
            return sb.toString();
        }
    }

    /** Builds the model, warms up and times {@code options.steps()} steps. */
    public static Result run(Options o) {
        return run(o, false);
    }

    /**
     * Runs the benchmark; with {@code profileLayers} the timed steps also record every profiled layer's forward
     * and backward self time ({@link LayerProfiler}), reported per step in {@link Result#layerProfile}.
     */
    public static Result run(Options o, boolean profileLayers) {
        Environment env = Environment.current();
        LOG.info("benchmark {} {} batch {} size {}: {} warm-up + {} steps; {} processors, ND4J max threads {}",
                o.config().name(), o.kind().label(), o.batch(), o.size(), o.warmup(), o.steps(),
                env.availableProcessors(), env.nd4jMaxThreads());
        long t0 = System.nanoTime();
        Harness h = new Harness(o);
        double setupMillis = (System.nanoTime() - t0) / 1e6;
        for (int i = 0; i < o.warmup(); i++) {
            double ms = h.step(i);
            LOG.info("warm-up {}/{}: {} ms", i + 1, o.warmup(), String.format(Locale.ROOT, "%.1f", ms));
        }
        if (LOG.isInfoEnabled()) {
            LOG.info("workspaces after warm-up: {}", StepScope.describeWorkspaces());
        }
        long rssAfterWarmup = readStatusBytes("VmRSS");
        double[] times = new double[o.steps()];
        Map<String, double[]> phaseTimes = new LinkedHashMap<>();
        LayerProfiler profiler = profileLayers ? LayerProfiler.start() : null;
        try {
            for (int i = 0; i < o.steps(); i++) {
                times[i] = h.step(o.warmup() + i);
                for (Map.Entry<String, Double> e : h.phases.entrySet()) {
                    phaseTimes.computeIfAbsent(e.getKey(), k -> new double[o.steps()])[i] = e.getValue();
                }
                LOG.debug("step {}/{}: {} ms {}", i + 1, o.steps(), times[i], h.phases);
            }
        } finally {
            if (profiler != null) {
                profiler.stop();
            }
        }
        if (LOG.isInfoEnabled()) {
            LOG.info("workspaces after the timed steps: {}", StepScope.describeWorkspaces());
        }
        Map<String, Double> phaseMedians = new LinkedHashMap<>();
        phaseTimes.forEach((k, v) -> phaseMedians.put(k, median(v)));
        long[] mem = readMemory();
        Result r = new Result(o, o.config().name(), h.params, h.macs, setupMillis, times, Map.copyOf(phaseMedians), h.lastLoss,
                mem[0], mem[1], rssAfterWarmup, h.workspaceBytes, env, profiler == null ? List.of() : profiler.entries());
        LOG.info("benchmark {} {}: median {} ms/step, {} images/s", r.model(), o.kind().label(),
                String.format(Locale.ROOT, "%.1f", r.medianMillis()), String.format(Locale.ROOT, "%.2f", r.imagesPerSecond()));
        return r;
    }

    /**
     * Memory soak: {@code o.warmup()} warm-up training steps, then {@code o.steps()} training steps, sampling
     * the current resident set ({@code VmRSS}) after the first step and every {@code sampleEvery} steps (and
     * after the last). {@code o.kind()} is ignored: the soak always trains. Like the trainer, it runs a GC every
     * {@link dev.nfnets.layers.memory.NativeMemory#DEFAULT_EVERY} steps.
     */
    public static SoakResult soak(Options o, int sampleEvery) {
        if (sampleEvery <= 0) {
            throw new IllegalArgumentException("sampleEvery must be positive, got " + sampleEvery);
        }
        Options train = o.withKind(Kind.TRAIN);
        Environment env = Environment.current();
        Harness h = new Harness(train);
        for (int i = 0; i < train.warmup(); i++) {
            h.step(i);
        }
        List<Sample> samples = new ArrayList<>();
        double[] times = new double[train.steps()];
        for (int i = 0; i < train.steps(); i++) {
            times[i] = h.step(train.warmup() + i);
            int done = i + 1;
            // the trainer's cadence (Trainer.fit), so that the soak measures what a training run holds; the
            // collection is outside the timed step
            dev.nfnets.layers.memory.NativeMemory.collectEvery(done, dev.nfnets.layers.memory.NativeMemory.DEFAULT_EVERY);
            if (i == 0 || done % sampleEvery == 0 || done == train.steps()) {
                Runtime rt = Runtime.getRuntime();
                Sample s = new Sample(done, readStatusBytes("VmRSS"), rt.totalMemory() - rt.freeMemory(), rt.totalMemory(), times[i]);
                samples.add(s);
                LOG.info("soak step {}/{}: RSS {}, heap used {} of {} committed, {} ms/step, loss {}", done, train.steps(),
                        mib(s.rssBytes()), mib(s.heapUsedBytes()), mib(s.heapCommittedBytes()),
                        String.format(Locale.ROOT, "%.1f", s.stepMillis()), String.format(Locale.ROOT, "%.4f", h.lastLoss));
            }
        }
        return new SoakResult(train, train.config().name(), sampleEvery, List.copyOf(samples), median(times), h.lastLoss,
                readMemory()[0], env);
    }

    /** Model, fixed batch, loss and optimizer of one benchmark; {@link #step} runs and times one step. */
    private static final class Harness {
        final Options o;
        final NFNet model;
        final INDArray input;
        final INDArray targets;
        final SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(LABEL_SMOOTHING);
        final Optimizer optimizer;
        final Map<String, Parameter> namedParams;
        final long params;
        final long macs;
        final String scopeId;
        final TrainStep trainStep;
        double lastLoss = Double.NaN;
        long workspaceBytes = -1;

        Harness(Options o) {
            this.o = o;
            Nd4j.getRandom().setSeed(o.seed());
            NFNetConfig c = o.config();
            model = StepScope.outside(() -> new NFNet(c));
            namedParams = model.namedParameters();
            params = model.parameterCount();
            macs = ModelSummary.of(c, o.size()).totalMacs();
            input = StepScope.outside(() -> {
                Nd4j.getRandom().setSeed(o.seed() + 1);
                return Nd4j.randn(DataType.FLOAT, o.batch(), c.inChannels(), o.size(), o.size());
            });
            SplittableRandom rng = new SplittableRandom(o.seed() + 2);
            int[] labels = new int[o.batch()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = rng.nextInt(c.numClasses());
            }
            targets = StepScope.outside(() -> SoftmaxCrossEntropy.oneHot(labels, c.numClasses(), DataType.FLOAT));
            optimizer = new Agc(Sgd.builder().learningRate(LEARNING_RATE).momentum(MOMENTUM).nesterov(true)
                    .weightDecay(WEIGHT_DECAY).build(), Agc.DEFAULT_CLIPPING, Agc.DEFAULT_EPS);
            scopeId = "bench-" + o.kind().label();
            trainStep = TrainStep.builder(model, optimizer).loss(loss).scope(scopeId).build();
        }

        /** Runs one step; returns its wall time in milliseconds and records its phases in {@link #phases}. */
        double step(int index) {
            phases.clear();
            if (o.kind() != Kind.FORWARD) {
                long t0 = System.nanoTime();
                TrainStep.Result r = trainStep.run(input, targets, o.seed() * 31 + index);
                long t4 = System.nanoTime();
                lastLoss = r.loss();
                workspaceBytes = reservedBytes(scopeId);
                phases.put("forward", r.forwardNanos() / 1e6);
                phases.put("loss_backward", r.backwardNanos() / 1e6);
                phases.put("agc_sgd_zero_grad", r.updateNanos() / 1e6);
                phases.put("scope_close", (t4 - t0 - r.forwardNanos() - r.backwardNanos() - r.updateNanos()) / 1e6);
                return (t4 - t0) / 1e6;
            }
            long t0 = System.nanoTime();
            long t1;
            StepScope scope = StepScope.open(scopeId, model.options());
            try {
                INDArray logits = model.forward(input, Mode.EVAL);
                lastLoss = Double.NaN;
                logits.getDouble(0); // results are computed synchronously on CPU; touch one value anyway
                t1 = System.nanoTime();
                workspaceBytes = scope.reservedBytes();
            } finally {
                scope.close();
            }
            long t4 = System.nanoTime();
            phases.put("forward", (t1 - t0) / 1e6);
            phases.put("scope_close", (t4 - t1) / 1e6);
            return (t4 - t0) / 1e6;
        }

        /** Bytes reserved by the step scope {@code id} of this thread (-1 when it is not open yet). */
        private static long reservedBytes(String id) {
            for (org.nd4j.linalg.api.memory.MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
                if (w.getId().equals("nfnets-" + id)) {
                    return w.getCurrentSize();
                }
            }
            return -1;
        }

        /** Phases of the last step in milliseconds, in order. */
        final Map<String, Double> phases = new LinkedHashMap<>();
    }

    /** One line of JSON (Jackson). */
    public static String toJson(Map<String, Object> map) {
        try {
            return JSON.writeValueAsString(map);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code {peak, current}} resident memory in bytes from one read of {@code /proc/self/status}
     * ({@code VmHWM}, {@code VmRSS}; the peak is at least the current value), or {@code {-1, -1}} where unavailable.
     */
    public static long[] readMemory() {
        String status = readStatus();
        long rss = statusField(status, "VmRSS");
        long hwm = statusField(status, "VmHWM");
        return new long[] {hwm < 0 ? -1 : Math.max(hwm, rss), rss};
    }

    /**
     * A field of {@code /proc/self/status} given in kB (e.g. {@code VmHWM}, {@code VmRSS}), in bytes; -1 where
     * the file or field does not exist (not Linux).
     */
    public static long readStatusBytes(String field) {
        return statusField(readStatus(), field);
    }

    private static String readStatus() {
        Path p = Path.of("/proc/self/status");
        if (!Files.isReadable(p)) {
            return "";
        }
        try {
            return Files.readString(p, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read {}", p, e);
            return "";
        }
    }

    private static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field + ":")) {
                try {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    long v = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                } catch (RuntimeException e) {
                    LOG.debug("cannot parse '{}'", line, e);
                    return -1;
                }
            }
        }
        return -1;
    }

    /** Whether the loaded ND4J native backend was built with oneDNN. */
    static boolean hasOneDnn() {
        try {
            Nd4j.getBackend(); // must come before NativeOpsHolder
            return org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("cannot read the ND4J build info", e);
            return false;
        }
    }

    static String renderEnvironment(Environment e) {
        return String.format(Locale.ROOT, "threads: %d available processors, ND4J max threads %d (master %d), OMP_NUM_THREADS=%s,"
                        + " OMP_WAIT_POLICY=%s; oneDNN %s; Java %s, max heap %s%n", e.availableProcessors(), e.nd4jMaxThreads(), e.nd4jMaxMasterThreads(),
                e.ompNumThreads().isEmpty() ? "(unset)" : e.ompNumThreads(),
                e.ompWaitPolicy().isEmpty() ? "(unset)" : e.ompWaitPolicy(), e.oneDnn() ? "yes" : "NO", e.javaVersion(),
                mib(e.maxHeapBytes()));
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
