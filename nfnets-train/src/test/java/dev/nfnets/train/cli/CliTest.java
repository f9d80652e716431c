package dev.nfnets.train.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    /** Runs the CLI in-process, capturing stdout. */
    static String[] run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = NFNetsCli.execute(args);
        } finally {
            System.setOut(old);
        }
        return new String[] {Integer.toString(code), buf.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void summaryReproducesTheSpecCounts() {
        long[] expected = {71_489_284L, 132_634_256L, 193_779_228L, 254_924_200L, 316_069_172L, 377_214_144L, 438_359_116L};
        for (int k = 0; k < expected.length; k++) {
            String[] r = run("summary", "--model", "f" + k);
            assertEquals("0", r[0]);
            assertTrue(r[1].contains("\nparams: " + expected[k] + "\n"), r[1]);
        }
        String[] f0 = run("summary", "--model", "f0", "--size", "256");
        assertTrue(f0[1].contains("macs@256: 12384198656"), f0[1]);
        assertTrue(f0[1].contains("stages.3.2") && f0[1].contains("3072 x 8 x 8"), f0[1]);
    }

    static Path extractCase(Path dir, String name) throws Exception {
        Path root = dir.resolve("nfnet-micro");
        for (String f : List.of("weights.npz", "weights.safetensors")) {
            copy("/fixtures/nfnet-micro/" + f, root.resolve(f));
        }
        for (String f : List.of("meta.json", "input.npy", "labels.npy", "logits.npy", "loss.npy", "grads.npz", "step1.npz")) {
            copy("/fixtures/nfnet-micro/" + name + "/" + f, root.resolve(name).resolve(f));
        }
        return root.resolve(name);
    }

    private static void copy(String resource, Path to) throws Exception {
        Files.createDirectories(to.getParent());
        try (InputStream in = CliTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            Files.copy(in, to);
        }
    }

    @Test
    void checkReferencePassesOnTheFixtureAndFailsOnImpossibleTolerances(@TempDir Path dir) throws Exception {
        Path s47 = extractCase(dir, "s47");
        String[] ok = run("check-reference", "--dir", s47.toString());
        assertEquals("0", ok[0], ok[1]);
        assertTrue(ok[1].contains("logits max abs error (weights.npz)") && ok[1].contains("step-1 parameters") && ok[1].contains("PASS"), ok[1]);
        String[] strict = run("check-reference", "--dir", s47.toString(), "--tol-logits", "1e-12");
        assertEquals("1", strict[0], strict[1]);
        assertTrue(strict[1].contains("FAIL"));
    }

    @Test
    void checkReferenceWithoutGradientsStillChecksLogits(@TempDir Path dir) throws Exception {
        Path s64 = extractCase(dir, "s64");
        Files.delete(s64.resolve("grads.npz"));
        Files.delete(s64.resolve("step1.npz"));
        String[] r = run("check-reference", "--dir", s64.toString(), "--kernels", "onednn");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("no grads.npz") && !r[1].contains("step-1"), r[1]);
    }

    @Test
    void trainEvalAndPredictEndToEnd(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, """
                {"base": "mnist", "name": "tiny", "stemChannels": [8, 16], "stageWidths": [16, 32], "stageDepths": [1, 1],
                 "stageStrides": [1, 2], "groupWidth": 8, "finalConvChannels": 32}
                """);
        Path run = dir.resolve("run");
        String[] t = run("train", "--model", cfg.toString(), "--steps", "4", "--batch-size", "16", "--run-dir", run.toString(),
                "--no-progress");
        assertEquals("0", t[0], t[1]);
        assertTrue(t[1].contains("test accuracy: top-1"), t[1]);
        for (String f : List.of("checkpoint.safetensors", "weights.safetensors", "metrics.csv", "eval.csv", "curves.png")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f + " missing in " + run);
        }
        String[] resumed = run("train", "--model", cfg.toString(), "--steps", "6", "--batch-size", "16", "--resume", run.toString(),
                "--no-progress");
        assertEquals("0", resumed[0], resumed[1]);
        assertTrue(resumed[1].contains("for 6 steps"), resumed[1]);

        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(10, 10, 0, 255);
        Path png = dir.resolve("x.png");
        ImageIO.write(img, "png", png.toFile());
        String[] p = run("predict", "--weights", run.toString(), "--top", "3", png.toString());
        assertEquals("0", p[0], p[1]);
        assertEquals(3, p[1].lines().filter(l -> l.matches("\\s+[0-9.]+%\\s+\\d+\\s+.*")).count(), p[1]);   // 3 classes
        assertTrue(p[1].contains("T-shirt/top") || p[1].contains("Trouser") || p[1].contains("Bag") || p[1].contains("Coat")
                || p[1].contains("Sneaker") || p[1].contains("Dress") || p[1].contains("Pullover") || p[1].contains("Sandal")
                || p[1].contains("Shirt") || p[1].contains("Ankle boot"), p[1]);

        String[] e = run("eval", "--weights", run.toString());
        assertEquals("0", e[0], e[1]);
        assertTrue(e[1].contains("top-1"), e[1]);
    }

    @Test
    void badArgumentsGiveAClearError(@TempDir Path dir) {
        String[] r = run("train", "--data", dir.resolve("nope").toString());
        assertEquals("1", r[0]);
        String[] s = run("summary", "--model", "f9");
        assertEquals("1", s[0]);
    }
}
