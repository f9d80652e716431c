package dev.nfnets.train.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.ConfigJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness itself, on a tiny network (a few seconds); real numbers come from {@code bench/compare.sh}. */
class BenchmarkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static NFNetConfig tiny() {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("bench-tiny").inChannels(3).numClasses(5)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).dropRate(0.1).stochDepthRate(0.1).build();
    }

    static BenchmarkOptions options(BenchmarkOptions.Kind kind) {
        return BenchmarkOptions.builder(tiny()).batch(2).size(16).kind(kind).warmup(1).steps(3).seed(3).build();
    }

    private static void positiveFinite(JsonNode n, String field) {
        assertTrue(n.has(field), "missing field " + field + " in " + n);
        double v = n.get(field).asDouble();
        assertTrue(Double.isFinite(v) && v > 0, field + " = " + v);
    }

    private static void checkCommon(JsonNode n, String mode) {
        assertEquals("nfnets-java", n.get("impl").asText());
        assertEquals(mode, n.get("mode").asText());
        assertEquals(2, n.get("batch").asInt());
        assertEquals(16, n.get("size").asInt());
        for (String f : new String[] {"params", "macs_per_image", "median_ms", "mean_ms", "min_ms", "max_ms", "images_per_sec",
                "gflops_per_sec"}) {
            positiveFinite(n, f);
        }
        assertEquals(3, n.get("step_ms").size());
        boolean linux = Files.isReadable(Path.of("/proc/self/status"));
        if (linux) {
            positiveFinite(n, "peak_rss_bytes");
            positiveFinite(n, "rss_bytes");
            assertTrue(n.get("peak_rss_bytes").asLong() >= n.get("rss_bytes").asLong());
        }
        JsonNode env = n.get("env");
        assertTrue(env.get("available_processors").asInt() > 0);
        assertTrue(env.get("nd4j_max_threads").asInt() > 0);
        assertTrue(env.has("onednn"));
    }

    @Test
    void forwardModeReportsTimesThroughputAndMemory() throws Exception {
        BenchmarkResult r = Benchmark.run(options(BenchmarkOptions.Kind.FORWARD));
        JsonNode n = JSON.readTree(Benchmark.toJson(r.toMap()));
        checkCommon(n, "forward");
        assertTrue(n.get("last_loss").isNull());
        assertTrue(n.get("phases_ms").has("forward"));
        assertFalse(n.get("phases_ms").has("loss_backward"));
        // achieved GFLOP/s = 2 * MACs * batch / median time
        double expected = 2.0 * r.macsPerImage() * 2 / (r.medianMillis() * 1e-3) / 1e9;
        assertEquals(expected, r.gflopsPerSecond(), 1e-9 * expected);
        assertTrue(r.render().contains("images/s"));
    }

    @Test
    void trainModeRunsFullStepsAndCountsThreeForwardPasses() throws Exception {
        BenchmarkResult r = Benchmark.run(options(BenchmarkOptions.Kind.TRAIN));
        JsonNode n = JSON.readTree(Benchmark.toJson(r.toMap()));
        checkCommon(n, "train");
        positiveFinite(n, "last_loss");
        assertEquals(6.0 * r.macsPerImage() * 2, r.flopsPerStep(), 1e-6);
        for (String phase : new String[] {"forward", "loss_backward", "agc_sgd_zero_grad"}) {
            positiveFinite(n.get("phases_ms"), phase);
        }
        assertTrue(n.get("workspace_bytes").asLong() > 0);
    }

    /**
     * With the layer profile, every weight-standardised convolution of the tiny model shows up with one forward and
     * one backward call per timed step, and the self times add up to less than the steps themselves.
     */
    @Test
    void layerProfileCountsEveryConvolutionOncePerStepAndFitsInTheStep() throws Exception {
        BenchmarkOptions o = options(BenchmarkOptions.Kind.TRAIN);
        BenchmarkResult r = Benchmark.run(o, true);
        assertFalse(r.layerProfile().isEmpty());
        long convs = new dev.nfnets.core.NFNet(tiny()).namedParameters().entrySet().stream()
                .filter(e -> e.getKey().endsWith(".weight") && e.getValue().value().rank() == 4).count();
        long forwardConvCalls = r.layerProfile().stream().filter(e -> e.key().startsWith("WSConv2d "))
                .mapToLong(dev.nfnets.layers.LayerProfiler.Entry::forwardCalls).sum();
        long backwardConvCalls = r.layerProfile().stream().filter(e -> e.key().startsWith("WSConv2d "))
                .mapToLong(dev.nfnets.layers.LayerProfiler.Entry::backwardCalls).sum();
        assertEquals(convs * o.steps(), forwardConvCalls);
        assertEquals(convs * o.steps(), backwardConvCalls);
        double stepTotal = java.util.Arrays.stream(r.stepMillis()).sum() / o.steps();
        assertTrue(r.profiledMillisPerStep() > 0 && r.profiledMillisPerStep() < stepTotal,
                r.profiledMillisPerStep() + " ms profiled vs " + stepTotal + " ms per step");
        JsonNode n = JSON.readTree(Benchmark.toJson(r.toMap()));
        assertTrue(n.get("layer_profile").isArray() && n.get("layer_profile").size() == r.layerProfile().size());
        assertTrue(r.render().contains("layer profile"));
        // without the option nothing is recorded
        assertTrue(Benchmark.run(o).layerProfile().isEmpty());
        assertFalse(dev.nfnets.layers.LayerProfiler.isActive());
    }

    @Test
    void soakSamplesResidentMemory() throws Exception {
        SoakResult r = Benchmark.soak(options(BenchmarkOptions.Kind.FORWARD).withSteps(5), 2);
        JsonNode n = JSON.readTree(Benchmark.toJson(r.toMap()));
        assertEquals("soak", n.get("mode").asText());
        // samples after step 1, every 2 steps, and after the last: 1, 2, 4, 5
        assertEquals(4, n.get("samples").size());
        assertEquals(5, n.get("samples").get(3).get("step").asInt());
        positiveFinite(n, "median_ms");
        positiveFinite(n, "last_loss");
        if (Files.isReadable(Path.of("/proc/self/status"))) {
            positiveFinite(n, "first_rss_bytes");
            assertTrue(r.maxRssBytes() >= r.firstRssBytes());
        }
        assertTrue(r.render().contains("growth"));
    }

    @Test
    void commandPrintsOneJsonObject(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, ConfigJson.toJson(tiny()));
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = BenchMain.execute("--model", cfg.toString(), "--batch", "2", "--size", "16", "--mode", "train",
                    "--warmup", "1", "--steps", "3", "--json");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        // the test logging configuration writes to stdout too: the JSON object is the one line starting with '{'
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\\R");
        String[] objects = java.util.Arrays.stream(lines).filter(l -> l.startsWith("{")).toArray(String[]::new);
        assertEquals(1, objects.length, buf.toString(StandardCharsets.UTF_8));
        JsonNode n = JSON.readTree(objects[0]);
        checkCommon(n, "train");
    }

    /** The A/B of one option: both values get half the timed steps, in A B B A order, and the option is restored. */
    @Test
    void alternatingRunsHalfTheStepsWithEachValue() throws Exception {
        AlternatingResult r = Benchmark.alternate(options(BenchmarkOptions.Kind.TRAIN).withSteps(4), "floatKernels", "true",
                "false");
        assertEquals(2, r.millisA().length);
        assertEquals(2, r.millisB().length);
        JsonNode n = JSON.readTree(Benchmark.toJson(r.toMap()));
        assertEquals("floatKernels", n.get("option").asText());
        assertEquals("true", n.get("a").asText());
        assertEquals("false", n.get("b").asText());
        positiveFinite(n, "median_ms_a");
        positiveFinite(n, "median_ms_b");
        positiveFinite(n, "ratio_b_a");
        assertEquals(2, n.get("step_ms_b").size());
        assertTrue(r.render().contains("floatKernels=false"), r.render());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Benchmark.alternate(options(BenchmarkOptions.Kind.TRAIN), "noSuchOption", "1", "2"));
        assertTrue(e.getMessage().contains("noSuchOption"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Benchmark.alternate(options(BenchmarkOptions.Kind.TRAIN).withSteps(1), "floatKernels", "true", "false"));
    }

    @Test
    void commandRejectsAMalformedAb(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, ConfigJson.toJson(tiny()));
        for (String ab : new String[] {"floatKernels", "floatKernels=true", "=1,2", "floatKernels=true,", "noSuchOption=1,2"}) {
            int code = BenchMain.execute("--model", cfg.toString(), "--batch", "2", "--size", "16", "--mode", "train",
                    "--warmup", "0", "--steps", "2", "--ab", ab);
            assertTrue(code != 0, "--ab " + ab + " was accepted");
        }
    }

    @Test
    void rejectsBadOptions() {
        assertThrows(IllegalArgumentException.class, () -> BenchmarkOptions.Kind.parse("backward"));
        assertThrows(IllegalArgumentException.class, () -> BenchmarkOptions.builder(tiny()).steps(0).build());
        assertThrows(IllegalArgumentException.class, () -> Benchmark.soak(options(BenchmarkOptions.Kind.TRAIN), 0));
        assertEquals(BenchmarkOptions.Kind.TRAIN, BenchmarkOptions.Kind.parse("Train"));
    }

    @Test
    void readsProcStatus() {
        if (Files.isReadable(Path.of("/proc/self/status"))) {
            assertTrue(ProcStatus.readStatusBytes("VmRSS") > 0);
            assertTrue(ProcStatus.readStatusBytes("VmHWM") >= ProcStatus.readStatusBytes("VmRSS") / 2);
        }
        assertEquals(-1, ProcStatus.readStatusBytes("NoSuchField"));
        assertEquals(2.5, Benchmark.median(new double[] {4, 1, 2, 3}));
    }
}
