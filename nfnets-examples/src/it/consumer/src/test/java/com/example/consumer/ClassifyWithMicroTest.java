package com.example.consumer;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Uses nfnets-java from outside its build: the micro reference weights (copied into this project's test
 * resources from nfnets-core's fixtures, with the fixture's input batch and the reference logits) go through
 * the public API.
 */
class ClassifyWithMicroTest {
    private static Path weights;
    private static ImageClassifier classifier;

    @BeforeAll
    static void load() throws Exception {
        weights = resource("micro/weights.npz");
        classifier = ClassifyWithMicro.classifier(weights);
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(ClassifyWithMicroTest.class.getResource("/" + name).toURI());
    }

    /** The same numbers as the reference implementation (DeepMind semantics, computed with PyTorch). */
    @Test
    void logitsOfTheFixtureBatchMatchTheReference() throws Exception {
        NFNet model = classifier.model();
        assertEquals(326_463, model.parameterCount());
        INDArray input = Npy.read(resource("micro/input.npy")).toINDArray().castTo(DataType.FLOAT); // 2,3,64,64
        float[][] expected = Npy.read(resource("micro/logits.npy")).toINDArray().castTo(DataType.FLOAT).toFloatMatrix();
        float[][] logits = classifier.logits(input);
        assertEquals(2, logits.length);
        double maxError = 0;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(10, logits[i].length);
            for (int k = 0; k < 10; k++) {
                maxError = Math.max(maxError, Math.abs(logits[i][k] - expected[i][k]));
            }
        }
        System.out.printf("logits max abs error against the reference: %.3g%n", maxError);
        // the spec's tolerance for oneDNN kernels (nfnets-core's ReferenceParityTest); the logits are of order 1
        assertTrue(maxError <= 1e-5, "logits differ from the reference by " + maxError);
    }

    @Test
    void classifiesADrawnImage(@TempDir Path dir) throws Exception {
        BufferedImage image = drawing(120, 90);
        Path png = dir.resolve("drawing.png");
        assertTrue(ImageIO.write(image, "png", png.toFile()));

        List<Prediction> all = classifier.classify(png, 10);
        assertEquals(10, all.size());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
                all.stream().map(Prediction::classIndex).sorted().toList(), "every class exactly once");
        double sum = 0;
        for (int i = 0; i < all.size(); i++) {
            Prediction p = all.get(i);
            assertEquals("class " + p.classIndex(), p.label());
            assertTrue(p.probability() > 0 && p.probability() < 1, p.toString());
            if (i > 0) {
                assertTrue(all.get(i - 1).probability() >= p.probability(), "not sorted: " + all);
            }
            sum += p.probability();
        }
        assertEquals(1.0, sum, 1e-9);

        // The in-memory image gives the same answer as the PNG, and the ranking follows the raw logits.
        float[] logits = classifier.logits(image);
        double[] softmax = ImageClassifier.softmax(logits);
        List<Prediction> top3 = classifier.classify(image, 3);
        assertEquals(all.subList(0, 3).stream().map(Prediction::classIndex).toList(),
                top3.stream().map(Prediction::classIndex).toList());
        int argmax = IntStream.range(0, logits.length).reduce((a, b) -> logits[b] > logits[a] ? b : a).orElseThrow();
        assertEquals(argmax, top3.get(0).classIndex());
        for (Prediction p : top3) {
            assertEquals(softmax[p.classIndex()], p.probability(), 1e-6);
        }
        // A different image gets different probabilities (the network looks at the pixels).
        double[] other = ImageClassifier.softmax(classifier.logits(drawing(64, 64).getSubimage(0, 0, 40, 40)));
        assertTrue(IntStream.range(0, 10).anyMatch(k -> Math.abs(other[k] - softmax[k]) > 1e-4));
    }

    @Test
    void mainPrintsTheTopThree(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("drawing.png");
        ImageIO.write(drawing(80, 80), "png", png.toFile());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            ClassifyWithMicro.run(weights, List.of(png), out);
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        assertTrue(printed.matches("drawing\\.png: \\[\\d class \\d \\([0-9.]+%\\), \\d class \\d \\([0-9.]+%\\), "
                + "\\d class \\d \\([0-9.]+%\\)]\\R"), printed);
    }

    /** A sky gradient, a sun and a house: something with colour, edges and structure. */
    static BufferedImage drawing(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setPaint(new GradientPaint(0, 0, new Color(40, 90, 200), 0, h, new Color(220, 230, 255)));
        g.fillRect(0, 0, w, h);
        g.setColor(new Color(250, 200, 40));
        g.fillOval(w * 3 / 4 - h / 8, h / 8, h / 4, h / 4);
        g.setColor(new Color(150, 60, 40));
        g.fillRect(w / 5, h / 2, w / 3, h / 3);
        g.setColor(Color.DARK_GRAY);
        g.setStroke(new BasicStroke(3));
        g.drawPolyline(new int[] {w / 5, w / 5 + w / 6, w / 5 + w / 3}, new int[] {h / 2, h / 4, h / 2}, 3);
        g.dispose();
        return img;
    }
}
