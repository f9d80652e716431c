package dev.nfnets.train.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.LayerProfiler;
import dev.nfnets.layers.memory.StepScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Speed and memory benchmark of one NFNet on random data: a few warm-up steps, then timed steps, reporting
 * the median time per step, images per second, the achieved arithmetic rate and the process's resident
 * memory.
 *
 * <ul>
 *   <li>{@link BenchmarkOptions.Kind#FORWARD}: one {@code forward(x, EVAL)} per step.</li>
 *   <li>{@link BenchmarkOptions.Kind#TRAIN}: a full training step: {@code forward(x, TRAIN)}, softmax cross-entropy with
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
 * <p>The parts: {@link BenchmarkOptions} (what to run), {@link BenchEnvironment} (threads and native backend),
 * {@code BenchHarness} (model, fixed batch and the {@link dev.nfnets.core.TrainStep} of one benchmark),
 * {@link BenchmarkResult} and {@link SoakResult} (what is reported), {@link ProcStatus} (the {@code /proc}
 * reader); this class runs them.
 *
 * <pre>{@code
 * BenchmarkResult r = Benchmark.run(BenchmarkOptions.builder(NFNetConfig.f0())
 *         .batch(8).size(192).kind(BenchmarkOptions.Kind.TRAIN).warmup(3).steps(10).build());
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

    /** Builds the model, warms up and times {@code options.steps()} steps. */
    public static BenchmarkResult run(BenchmarkOptions o) {
        return run(o, false);
    }

    /**
     * Runs the benchmark; with {@code profileLayers} the timed steps also record every profiled layer's forward
     * and backward self time ({@link LayerProfiler}), reported per step in {@link BenchmarkResult#layerProfile}.
     */
    public static BenchmarkResult run(BenchmarkOptions o, boolean profileLayers) {
        BenchEnvironment env = BenchEnvironment.current();
        LOG.info("benchmark {} {} batch {} size {}: {} warm-up + {} steps; {} processors, ND4J max threads {}",
                o.config().name(), o.kind().label(), o.batch(), o.size(), o.warmup(), o.steps(),
                env.availableProcessors(), env.nd4jMaxThreads());
        long t0 = System.nanoTime();
        BenchHarness h = new BenchHarness(o);
        double setupMillis = (System.nanoTime() - t0) / 1e6;
        for (int i = 0; i < o.warmup(); i++) {
            double ms = h.step(i);
            LOG.info("warm-up {}/{}: {} ms", i + 1, o.warmup(), String.format(Locale.ROOT, "%.1f", ms));
        }
        if (LOG.isInfoEnabled()) {
            LOG.info("workspaces after warm-up: {}", StepScope.describeWorkspaces());
        }
        long rssAfterWarmup = ProcStatus.readStatusBytes("VmRSS");
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
        long[] mem = ProcStatus.readMemory();
        BenchmarkResult r = new BenchmarkResult(o, o.config().name(), h.params, h.macs, setupMillis, times, Map.copyOf(phaseMedians), h.lastLoss,
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
    public static SoakResult soak(BenchmarkOptions o, int sampleEvery) {
        if (sampleEvery <= 0) {
            throw new IllegalArgumentException("sampleEvery must be positive, got " + sampleEvery);
        }
        BenchmarkOptions train = o.withKind(BenchmarkOptions.Kind.TRAIN);
        BenchEnvironment env = BenchEnvironment.current();
        BenchHarness h = new BenchHarness(train);
        for (int i = 0; i < train.warmup(); i++) {
            h.step(i);
        }
        List<SoakResult.Sample> samples = new ArrayList<>();
        double[] times = new double[train.steps()];
        for (int i = 0; i < train.steps(); i++) {
            times[i] = h.step(train.warmup() + i);
            int done = i + 1;
            // the trainer's cadence (Trainer.fit), so that the soak measures what a training run holds; the
            // collection is outside the timed step
            dev.nfnets.layers.memory.NativeMemory.collectEvery(done, dev.nfnets.layers.memory.NativeMemory.DEFAULT_EVERY);
            if (i == 0 || done % sampleEvery == 0 || done == train.steps()) {
                Runtime rt = Runtime.getRuntime();
                SoakResult.Sample s = new SoakResult.Sample(done, ProcStatus.readStatusBytes("VmRSS"), rt.totalMemory() - rt.freeMemory(), rt.totalMemory(), times[i]);
                samples.add(s);
                LOG.info("soak step {}/{}: RSS {}, heap used {} of {} committed, {} ms/step, loss {}", done, train.steps(),
                        mib(s.rssBytes()), mib(s.heapUsedBytes()), mib(s.heapCommittedBytes()),
                        String.format(Locale.ROOT, "%.1f", s.stepMillis()), String.format(Locale.ROOT, "%.4f", h.lastLoss));
            }
        }
        return new SoakResult(train, train.config().name(), sampleEvery, List.copyOf(samples), median(times), h.lastLoss,
                ProcStatus.readMemory()[0], env);
    }

    /**
     * Same-process A/B of one option ({@link dev.nfnets.layers.NFNetsOptions}, e.g. {@code onednnEltwiseMin}): one
     * model, batch and optimizer; the warm-up and timed steps run with {@code key=valueA} and {@code key=valueB} in
     * turn, A B B A A B B A..., so that the machine's drift between separate runs (10-30% here) falls on both alike.
     * {@code o.steps()} timed steps in all, half with each value; the options are checked before the model is built.
     */
    public static AlternatingResult alternate(BenchmarkOptions o, String key, String valueA, String valueB) {
        dev.nfnets.layers.NFNetsOptions base = dev.nfnets.layers.NFNetsOptions.defaults();
        dev.nfnets.layers.NFNetsOptions[] opts = alternatives(key, valueA, valueB);
        if (o.steps() < 2) {
            throw new IllegalArgumentException("alternating benchmark: at least 2 timed steps (one per value), got " + o.steps());
        }
        BenchEnvironment env = BenchEnvironment.current();
        LOG.info("benchmark {} {} batch {} size {}: {} warm-up + {} steps, {} = {} / {} alternating",
                o.config().name(), o.kind().label(), o.batch(), o.size(), o.warmup(), o.steps(), key, valueA, valueB);
        BenchHarness h = new BenchHarness(o);
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (int i = 0; i < o.warmup() + o.steps(); i++) {
            int side = (i / 2 + i) % 2; // A B B A ...
            h.model.useOptions(opts[side]);
            double ms = h.step(i);
            if (i >= o.warmup()) {
                (side == 0 ? a : b).add(ms);
            }
            LOG.debug("step {} ({}={}): {} ms", i + 1, key, side == 0 ? valueA : valueB, ms);
        }
        h.model.useOptions(base);
        AlternatingResult r = new AlternatingResult(o, o.config().name(), key, valueA, valueB,
                a.stream().mapToDouble(Double::doubleValue).toArray(), b.stream().mapToDouble(Double::doubleValue).toArray(), env);
        LOG.info("benchmark {} {}: {}={} median {} ms, {}={} median {} ms", r.model(), o.kind().label(), key, valueA,
                String.format(Locale.ROOT, "%.1f", r.medianA()), key, valueB, String.format(Locale.ROOT, "%.1f", r.medianB()));
        return r;
    }

    /**
     * The defaults with {@code key} set to {@code valueA} and to {@code valueB}: an unknown key or a value the option
     * does not take fails here, with a message naming it, before any model is built.
     */
    public static dev.nfnets.layers.NFNetsOptions[] alternatives(String key, String valueA, String valueB) {
        dev.nfnets.layers.NFNetsOptions base = dev.nfnets.layers.NFNetsOptions.defaults();
        return new dev.nfnets.layers.NFNetsOptions[] {base.toBuilderWith(Map.of(key, valueA)).build(),
                base.toBuilderWith(Map.of(key, valueB)).build()};
    }

    /** The leading fields of every result's JSON: implementation, model, mode, batch, size, warm-up and timed steps. */
    static Map<String, Object> header(BenchmarkOptions o, String model, String mode) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("impl", "nfnets-java");
        m.put("model", model);
        m.put("mode", mode);
        m.put("batch", o.batch());
        m.put("size", o.size());
        m.put("warmup", o.warmup());
        m.put("steps", o.steps());
        return m;
    }

    /** One line of JSON (Jackson). */
    public static String toJson(Map<String, Object> map) {
        try {
            return JSON.writeValueAsString(map);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
