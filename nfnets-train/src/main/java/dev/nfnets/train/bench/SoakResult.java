package dev.nfnets.train.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The result of {@link Benchmark#soak}: resident memory sampled every few training steps. */
public record SoakResult(BenchmarkOptions options, String model, int sampleEvery, List<Sample> samples, double medianMillis,
                         double lastLoss, long vmHwmBytes, BenchEnvironment environment) {
    /**
     * One memory sample of a soak run: resident set (VmRSS), Java heap in use and committed (the committed heap is
     * part of the RSS once touched, so RSS growth up to the heap limit can be the JVM's, not ND4J's), this step's time.
     */
    public record Sample(int step, long rssBytes, long heapUsedBytes, long heapCommittedBytes, double stepMillis) {
    }


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
        Map<String, Object> m = Benchmark.header(options, model, "soak");
        m.put("sample_every", sampleEvery);
        m.put("median_ms", Benchmark.round(medianMillis));
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
            e.put("step_ms", Benchmark.round(x.stepMillis()));
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
            sb.append(String.format(Locale.ROOT, "%8d %12s %12s %14s %10.1f%n", x.step(), Benchmark.mib(x.rssBytes()), Benchmark.mib(x.heapUsedBytes()),
                    Benchmark.mib(x.heapCommittedBytes()), x.stepMillis()));
        }
        sb.append(String.format(Locale.ROOT, "RSS first after warm-up %s, max %s, last %s, growth %s; peak (VmHWM) %s%n",
                Benchmark.mib(firstRssBytes()), Benchmark.mib(maxRssBytes()), Benchmark.mib(lastRssBytes()), Benchmark.mib(growthBytes()), Benchmark.mib(vmHwmBytes)));
        sb.append(String.format(Locale.ROOT, "median step %.1f ms (%.2f images/s), last loss %.4f%n",
                medianMillis, options.batch() * 1000.0 / medianMillis, lastLoss));
        sb.append(environment.render());
        return sb.toString();
    }
}
