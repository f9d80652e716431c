package dev.nfnets.train.cli;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's fine-tune line ({@code train --data my-images/ --model M --init-from W --freeze stem,stages.0}) on small data. */
class FineTuneCliTest {
    @TempDir
    static Path dir;
    static Path images;
    static Path pretrained;

    /** Runs the CLI in-process; returns {exit code, stdout + stderr}. */
    static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream both = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(both);
        System.setErr(both);
        int code;
        try {
            code = NFNetsCli.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new String[] {Integer.toString(code), buf.toString(StandardCharsets.UTF_8)};
    }

    @BeforeAll
    static void data() throws Exception {
        images = dir.resolve("my-images");
        String[] classes = {"circle", "square"};
        for (int k = 0; k < 2; k++) {
            Files.createDirectories(images.resolve(classes[k]));
            for (int i = 0; i < 6; i++) {
                BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(new Color(40 * i, 200, 255 - 30 * i));
                if (k == 0) {
                    g.fillOval(4 + i, 4, 24, 24);
                } else {
                    g.fillRect(4 + i, 4, 24, 24);
                }
                g.dispose();
                ImageIO.write(img, "png", images.resolve(classes[k]).resolve(i + ".png").toFile());
            }
        }
        // "published" weights in timm naming for the small built-in model, 10 classes
        pretrained = dir.resolve("dm_nfnet_mnist.safetensors");
        Weights.save(new NFNet(NFNetConfig.mnist(), 3), pretrained, WeightFormat.TIMM);
    }

    @Test
    void theReadmeLineFineTunesWithFrozenLayersAndResumeKeepsThem() throws Exception {
        Path run = dir.resolve("run");
        String[] t = run("train", "--data", images.toString(), "--model", "mnist", "--init-from", pretrained.toString(),
                "--freeze", "stem,stages.0", "--epochs", "1", "--batch-size", "4", "--ema-decay", "0", "--no-progress", "--run-dir", run.toString());
        assertEquals("0", t[0], t[1]);
        assertTrue(t[1].contains("12 images in 2 classes, 1x28x28"), t[1]);   // grey, following the model
        assertTrue(t[1].contains("no test folder, so no evaluation"), t[1]);
        assertFalse(t[1].contains("test accuracy"), t[1]);
        assertTrue(t[1].contains("new classifier for 2 classes"), t[1]);
        assertTrue(t[1].contains("learning rate: peak 0.003125 = --base-lr 0.2 x batch 4 / 256"), t[1]);
        assertTrue(t[1].matches("(?s).*frozen: \\d+ parameter tensors under \\[stem, stages.0].*"), t[1]);
        Path weights = run.resolve("weights.safetensors");
        assertEquals(List.of("circle", "square"), NFNets.load(run).classNames().orElseThrow());
        assertFrozenAsIn(pretrained, WeightFormat.TIMM, weights);
        assertTrue(Safetensors.read(run.resolve("checkpoint.safetensors")).metadata().get("frozen").contains("stem.conv0.weight"));

        // resume without --freeze: the run's frozen parameters stay frozen
        String[] r = run("train", "--data", images.toString(), "--model", "mnist", "--epochs", "2", "--batch-size", "4", "--ema-decay", "0",
                "--no-progress", "--resume", run.toString());
        assertEquals("0", r[0], r[1]);
        assertFrozenAsIn(pretrained, WeightFormat.TIMM, weights);
        String[] e = run("eval", "--weights", run.toString(), "--data", images.toString());
        assertEquals("0", e[0], e[1]);
        assertTrue(e[1].contains("evaluating on image folder " + images) && e[1].contains("(a folder of class folders: all of it)"), e[1]);
        assertFalse(e[1].contains("no evaluation"), e[1]);
        // --init-from a run folder
        String[] f = run("train", "--data", images.toString(), "--model", "mnist", "--init-from", run.toString(), "--steps", "1",
                "--batch-size", "4", "--no-progress", "--run-dir", dir.resolve("run2").toString());
        assertEquals("0", f[0], f[1]);
        assertTrue(f[1].contains("initialised from " + weights), f[1]);
        assertFalse(f[1].contains("new classifier"), f[1]);
    }

    /** The stem and stage-0 tensors of {@code trained} equal those of the initial file. */
    private static void assertFrozenAsIn(Path initial, WeightFormat format, Path trained) throws Exception {
        NFNet a = NFNets.load(NFNetConfig.mnist(), initial);
        NFNet b = NFNets.load(trained);
        int compared = 0;
        for (var e : b.namedParameters().entrySet()) {
            String name = e.getKey();
            if (name.startsWith("stem") || name.startsWith("stages.0")) {
                INDArray x = a.namedParameters().get(name).value();
                INDArray y = e.getValue().value();
                assertTrue(x.equalsWithEps(y, 1e-6), name + " changed although frozen");
                compared++;
            } else if (name.equals("final_conv.weight")) {   // (a residual branch gets no gradient while its skip gain is 0)
                assertFalse(a.namedParameters().get(name).value().equalsWithEps(e.getValue().value(), 1e-6), name + " did not train");
            }
        }
        assertTrue(compared > 10, "compared " + compared);
    }

    @Test
    void mistakesGetHints() throws Exception {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, """
                {"base": "mnist", "name": "tiny", "stemChannels": [8, 16], "stageWidths": [16, 32], "stageDepths": [1, 1],
                 "stageStrides": [1, 2], "groupWidth": 8, "finalConvChannels": 32}
                """);
        List<String> base = new ArrayList<>(List.of("train", "--data", images.toString(), "--epochs", "1", "--batch-size", "4",
                "--no-progress", "--run-dir", dir.resolve("bad").toString()));
        List<String> a = new ArrayList<>(base);
        a.addAll(List.of("--model", cfg.toString(), "--init-from", pretrained.toString()));
        String[] wrongModel = run(a.toArray(String[]::new));
        assertEquals("1", wrongModel[0]);
        assertTrue(wrongModel[1].contains("this file fits nfnet-mnist with 10 classes and 1 input channel (--model mnist)"), wrongModel[1]);

        List<String> b = new ArrayList<>(base);
        b.addAll(List.of("--model", "mnist", "--freeze", "stem,foo"));
        String[] freeze = run(b.toArray(String[]::new));
        assertEquals("1", freeze[0]);
        assertTrue(freeze[1].contains("--freeze 'foo' matches no parameter of nfnet-mnist; parameter names start with: classifier,"),
                freeze[1]);

        String[] big = run("train", "--data", images.toString(), "--model", "mnist", "--epochs", "1", "--no-progress");
        assertEquals("1", big[0]);
        assertTrue(big[1].contains("the training set (12 images) is smaller than one batch of 128: pass --batch-size 12 or less"),
                big[1]);

        String[] rgb = run("train", "--data", images.toString(), "--model", "mnist", "--channels", "3", "--resize", "40",
                "--steps", "1", "--batch-size", "4", "--no-progress", "--run-dir", dir.resolve("rgb").toString());
        assertEquals("0", rgb[0], rgb[1]);
        assertTrue(rgb[1].contains("3x28x28 (shorter side 40, centre crop"), rgb[1]);
        assertTrue(rgb[1].contains("adapted to the data: 2 classes, 3 input channels"), rgb[1]);
    }
}
