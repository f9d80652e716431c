package dev.nfnets.core.inference;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.layers.Mode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageClassifierTest {
    /** A few-thousand-parameter NFNet: one stem conv, one block, 16x16 input, 5 classes. */
    static final NFNetConfig TINY = NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").inChannels(3).numClasses(5)
            .stem(new int[] {8}, new int[] {2}).stageWidths(16).stageDepths(1).stageStrides(1).groupWidth(8)
            .finalConvChannels(32).testSize(16).build();

    @TempDir
    static Path dir;
    static NFNet original;
    static Path nativeFile;
    static List<Path> images = new ArrayList<>();

    @BeforeAll
    static void saveModelAndImages() throws IOException {
        original = new NFNet(TINY);
        nativeFile = dir.resolve("tiny.safetensors");
        Weights.save(original, nativeFile, WeightFormat.NATIVE);
        for (int i = 0; i < 5; i++) {
            Path p = dir.resolve("img" + i + ".png");
            ImageIO.write(PreprocessingTest.randomRgb(20 + 7 * i, 30 - 3 * i, 100 + i), "png", p.toFile());
            images.add(p);
        }
    }

    @Test
    void nativeFileRoundTripGivesTheSameLogits() throws IOException {
        NFNet loaded = NFNets.load(nativeFile);
        assertEquals(TINY, loaded.config());
        INDArray x = Preprocessing.forConfig(TINY).apply(images.get(0));
        assertArrayEquals(original.forward(x, Mode.EVAL).toFloatVector(), loaded.forward(x, Mode.EVAL).toFloatVector(),
                1e-6f);
        NFNet viaConfig = NFNets.load(TINY, nativeFile);
        assertArrayEquals(original.forward(x, Mode.EVAL).toFloatVector(),
                viaConfig.forward(x, Mode.EVAL).toFloatVector(), 1e-6f);
    }

    @Test
    void topKIsSortedAndProbabilitiesAreTheSoftmaxOfTheLogits() throws IOException {
        ImageClassifier c = NFNets.classifier(NFNets.load(nativeFile));
        assertEquals(ClassNames.generic(5), c.classNames());
        assertEquals(Preprocessing.imagenet(16), c.preprocessing());
        BufferedImage img = Images.read(images.get(1));
        float[] logits = original.forward(c.preprocessing().apply(img), Mode.EVAL).toFloatVector();
        double[] p = ImageClassifier.softmax(logits);

        List<Prediction> all = c.classify(img, 5);
        assertEquals(5, all.size());
        double sum = 0;
        for (int i = 0; i < all.size(); i++) {
            Prediction pr = all.get(i);
            sum += pr.probability();
            assertEquals(p[pr.classIndex()], pr.probability(), 1e-6);
            assertEquals("class " + pr.classIndex(), pr.label());
            if (i > 0) {
                assertTrue(all.get(i - 1).probability() >= pr.probability(), all.toString());
            }
        }
        assertEquals(1.0, sum, 1e-6);
        List<Prediction> top2 = c.classify(images.get(1), 2);
        assertEquals(all.subList(0, 2), top2);
    }

    @Test
    void topKOutOfRangeIsAClearError() {
        ImageClassifier c = NFNets.classifier(original);
        BufferedImage img = PreprocessingTest.randomRgb(8, 8, 1);
        for (int bad : new int[] {0, -1, 6}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.classify(img, bad));
            assertTrue(e.getMessage().contains("between 1 and 5") && e.getMessage().contains("got " + bad),
                    e.getMessage());
        }
    }

    @Test
    void batchClassificationMatchesOneByOne() throws IOException {
        ImageClassifier c = NFNets.classifier(original, List.of("a", "b", "c", "d", "e")).withBatchSize(2);
        List<List<Prediction>> batch = c.classifyAll(images, 3);
        assertEquals(images.size(), batch.size());
        for (int i = 0; i < images.size(); i++) {
            List<Prediction> one = c.classify(images.get(i), 3);
            for (int k = 0; k < 3; k++) {
                assertEquals(one.get(k).classIndex(), batch.get(i).get(k).classIndex(), "image " + i);
                assertEquals(one.get(k).label(), batch.get(i).get(k).label());
                assertEquals(one.get(k).probability(), batch.get(i).get(k).probability(), 1e-5);
            }
        }
        assertEquals(List.of(), c.classifyAll(List.of(), 1));
    }

    @Test
    void concurrentCallersGetIdenticalResults() throws Exception {
        ImageClassifier c = NFNets.classifier(original);
        List<List<Prediction>> expected = new ArrayList<>();
        for (Path p : images) {
            expected.add(c.classify(p, 5));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<List<Prediction>>>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int shift = t;
                futures.add(pool.submit(() -> {
                    List<List<Prediction>> got = new ArrayList<>();
                    for (int r = 0; r < 3; r++) {
                        for (int i = 0; i < images.size(); i++) {
                            int k = (i + shift) % images.size();
                            got.add(c.classify(images.get(k), 5));
                        }
                    }
                    return got;
                }));
            }
            for (int t = 0; t < 4; t++) {
                List<List<Prediction>> got = futures.get(t).get();
                for (int j = 0; j < got.size(); j++) {
                    assertEquals(expected.get((j % images.size() + t) % images.size()), got.get(j),
                            "thread " + t + " call " + j);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void corruptImageFileIsNamed() throws IOException {
        Path bad = dir.resolve("corrupt.jpg");
        Files.write(bad, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 1, 2, 3});
        ImageClassifier c = NFNets.classifier(original);
        IOException e = assertThrows(IOException.class, () -> c.classify(bad, 1));
        assertTrue(e.getMessage().contains("corrupt.jpg"), e.getMessage());
        List<Path> mixed = List.of(images.get(0), bad);
        e = assertThrows(IOException.class, () -> c.classifyAll(mixed, 1));
        assertTrue(e.getMessage().contains("corrupt.jpg"), e.getMessage());
    }

    @Test
    void mismatchesAreClearErrors() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NFNets.classifier(original, List.of("x", "y")));
        assertTrue(e.getMessage().contains("5 classes but 2 class names"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NFNets.classifier(original).withPreprocessing(Preprocessing.grayscale(16)));
        assertTrue(e.getMessage().contains("3 input channels"), e.getMessage());

        Path timm = dir.resolve("tiny-timm.safetensors");
        Weights.save(original, timm, WeightFormat.TIMM);
        e = assertThrows(IllegalArgumentException.class, () -> NFNets.load(timm));
        assertTrue(e.getMessage().contains("no model config") && e.getMessage().contains("tiny-timm"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NFNets.load(dir.resolve("F0.npz")));
        assertTrue(e.getMessage().contains("NFNets.load(config, path)"), e.getMessage());
    }

    @Test
    void defaultNamesAndPreprocessingFollowTheModel() {
        NFNet imagenetHead = new NFNet(NFNetConfig.builder(TINY).numClasses(1000).build());
        ImageClassifier c = NFNets.classifier(imagenetHead);
        assertEquals("golden retriever", c.classNames().get(207));
        assertEquals(3, c.classify(PreprocessingTest.randomRgb(10, 10, 2), 3).size());

        NFNet grey = new NFNet(NFNetConfig.builder(TINY).inChannels(1).testSize(12).build());
        ImageClassifier g = NFNets.classifier(grey);
        assertEquals(Preprocessing.grayscale(12), g.preprocessing());
        List<Prediction> top = g.classify(PreprocessingTest.randomRgb(15, 15, 3), 5);
        assertEquals(1.0, top.stream().mapToDouble(Prediction::probability).sum(), 1e-6);
    }

    @Test
    void softmaxIsStableForLargeLogits() {
        double[] p = ImageClassifier.softmax(new float[] {1000f, 1000f, -1000f});
        assertArrayEquals(new double[] {0.5, 0.5, 0}, p, 1e-12);
    }
}
