package dev.nfnets.train.bench;

import java.util.Locale;
import java.util.Map;

/**
 * The result of {@link Benchmark#alternate}: one model stepping with option {@code key} at {@code valueA} and at
 * {@code valueB} in turn (A B B A A B B A ...), so that both settings sample the machine's drifting speed alike.
 *
 * @param millisA the timed steps with {@code valueA}, in order
 * @param millisB the timed steps with {@code valueB}, in order
 */
public record AlternatingResult(BenchmarkOptions options, String model, String key, String valueA, String valueB,
                                double[] millisA, double[] millisB, BenchEnvironment environment) {
    public double medianA() {
        return Benchmark.median(millisA);
    }

    public double medianB() {
        return Benchmark.median(millisB);
    }

    /** Median step time with B over median step time with A: below 1, B is faster. */
    public double ratio() {
        return medianB() / medianA();
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = Benchmark.header(options, model, options.kind().label());
        m.put("option", key);
        m.put("a", valueA);
        m.put("b", valueB);
        m.put("median_ms_a", Benchmark.round(medianA()));
        m.put("median_ms_b", Benchmark.round(medianB()));
        m.put("ratio_b_a", Benchmark.round(ratio()));
        m.put("step_ms_a", rounded(millisA));
        m.put("step_ms_b", rounded(millisB));
        m.put("env", environment.toMap());
        return m;
    }

    private static double[] rounded(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Benchmark.round(v[i]);
        }
        return r;
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "model %s, mode %s, batch %d, size %d px, %d warm-up + %d timed steps, "
                + "%s alternating A B B A%n", model, options.kind().label(), options.batch(), options.size(), options.warmup(),
                options.steps(), key));
        sb.append(String.format(Locale.ROOT, "A  %s=%s: median %.1f ms over %d steps%n", key, valueA, medianA(), millisA.length));
        sb.append(String.format(Locale.ROOT, "B  %s=%s: median %.1f ms over %d steps%n", key, valueB, medianB(), millisB.length));
        sb.append(String.format(Locale.ROOT, "B/A median step time %.3f (below 1: B faster)%n", ratio()));
        sb.append(environment.render());
        return sb.toString();
    }
}
