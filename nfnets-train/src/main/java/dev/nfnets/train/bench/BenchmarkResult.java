package dev.nfnets.train.bench;

import dev.nfnets.layers.LayerProfiler;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The result of {@link Benchmark#run}. Times are milliseconds; memory is bytes (-1 where unavailable). */
public record BenchmarkResult(BenchmarkOptions options, String model, long params, long macsPerImage, double setupMillis,
                     double[] stepMillis, Map<String, Double> phaseMillis, double lastLoss, long vmHwmBytes, long vmRssBytes, long vmRssAfterWarmupBytes,
                     long workspaceBytes, BenchEnvironment environment, List<LayerProfiler.Entry> layerProfile) {

    public BenchmarkResult {
        layerProfile = layerProfile == null ? List.of() : List.copyOf(layerProfile);
    }

    public double medianMillis() {
        return Benchmark.median(stepMillis);
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
        Map<String, Object> m = Benchmark.header(options, model, options.kind().label());
        m.put("seed", options.seed());
        m.put("params", params);
        m.put("macs_per_image", macsPerImage);
        m.put("setup_ms", Benchmark.round(setupMillis));
        m.put("median_ms", Benchmark.round(medianMillis()));
        m.put("mean_ms", Benchmark.round(meanMillis()));
        m.put("min_ms", Benchmark.round(minMillis()));
        m.put("max_ms", Benchmark.round(maxMillis()));
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
                row.put("forward_ms_per_step", Benchmark.round(e.forwardNanos() / 1e6 / n));
                row.put("backward_calls_per_step", (double) e.backwardCalls() / n);
                row.put("backward_ms_per_step", Benchmark.round(e.backwardNanos() / 1e6 / n));
                rows.add(row);
            }
            m.put("layer_profile", rows);
            m.put("layer_profile_total_ms_per_step", Benchmark.round(profiledMillisPerStep()));
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
                m.put(k, Benchmark.round(phaseMillis.get(k)));
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
                        + " step workspace %s%n", Benchmark.mib(vmHwmBytes), Benchmark.mib(vmRssBytes), Benchmark.mib(vmRssAfterWarmupBytes), Benchmark.mib(workspaceBytes)));
        sb.append(environment.render());
        if (!layerProfile.isEmpty()) {
            sb.append(renderProfile(30));
        }
        return sb.toString();
    }
}
