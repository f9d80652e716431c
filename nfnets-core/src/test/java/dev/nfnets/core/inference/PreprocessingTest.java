package dev.nfnets.core.inference;

import dev.nfnets.core.NFNetConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessingTest {
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    static BufferedImage randomRgb(int w, int h, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        return img;
    }

    @Test
    void referencePipelineMatchesANaiveImplementation() {
        int s = 8;
        int w = 17;
        int h = 13;
        BufferedImage img = randomRgb(w, h, 11);
        float[] chw = new float[3 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = img.getRGB(x, y);
                chw[y * w + x] = (p >> 16) & 0xff;
                chw[h * w + y * w + x] = (p >> 8) & 0xff;
                chw[2 * h * w + y * w + x] = p & 0xff;
            }
        }
        double[] resized = NaiveTfResize.bicubic(chw, 3, h, w, s + 32, s + 32);

        INDArray x = Preprocessing.imagenet(s).apply(img);
        assertArrayEquals(new long[] {1, 3, s, s}, x.shape());
        assertEquals(DataType.FLOAT, x.dataType());
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < s; y++) {
                for (int xx = 0; xx < s; xx++) {
                    double v = resized[(c * (s + 32) + 16 + y) * (s + 32) + 16 + xx];
                    double want = (v - 255 * MEAN[c]) / (255 * STD[c]);
                    assertEquals(want, x.getDouble(0, c, y, xx), 1e-4, "(" + c + "," + y + "," + xx + ")");
                }
            }
        }
    }

    @Test
    void referenceGeometryForTheVariants() {
        Preprocessing f0 = Preprocessing.forConfig(NFNetConfig.f0());
        assertEquals(256, f0.size());
        assertEquals(288, f0.resizeSize());
        assertEquals(16, f0.cropOffset());
        assertEquals(3, f0.channels());
        assertEquals(Preprocessing.imagenet(608), Preprocessing.forConfig(NFNetConfig.f7()));
        assertEquals(123.675f, f0.mean()[0], 1e-4f);
        assertEquals(57.375f, f0.std()[2], 1e-4f);
        Preprocessing mnist = Preprocessing.forConfig(NFNetConfig.mnist());
        assertEquals(Preprocessing.grayscale(28), mnist);
        assertEquals(0, mnist.cropOffset());
        assertEquals(1, mnist.channels());
    }

    @Test
    void constantImageGivesTheNormalisedConstant() {
        BufferedImage img = new BufferedImage(50, 30, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 30; y++) {
            for (int x = 0; x < 50; x++) {
                img.setRGB(x, y, 0x7F3FC0);
            }
        }
        float[] px = Preprocessing.imagenet(16).pixels(img);
        int[] rgb = {0x7F, 0x3F, 0xC0};
        for (int c = 0; c < 3; c++) {
            double want = (rgb[c] - 255 * MEAN[c]) / (255 * STD[c]);
            for (int i = 0; i < 256; i++) {
                assertEquals(want, px[c * 256 + i], 1e-5);
            }
        }
    }

    @Test
    void greyscaleVariantOn28x28IsExactlyTheFashionMnistNormalisation() {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        int[] v = new int[28 * 28];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 37) % 256;
        }
        img.getRaster().setSamples(0, 0, 28, 28, 0, v);
        INDArray x = Preprocessing.grayscale(28).apply(img);
        assertArrayEquals(new long[] {1, 1, 28, 28}, x.shape());
        for (int i = 0; i < v.length; i++) {
            assertEquals((v[i] / 255.0 - 0.2860) / 0.3530, x.getDouble(0, 0, i / 28, i % 28), 1e-5);
        }
    }

    @Test
    void greyscaleVariantResizesOtherSizesAndConvertsColour() {
        BufferedImage img = randomRgb(40, 33, 4);
        float[] grey = Images.grey(img);
        double[] resized = NaiveTfResize.bicubic(grey, 1, 33, 40, 28, 28);
        float[] px = Preprocessing.grayscale(28).pixels(img);
        for (int i = 0; i < px.length; i++) {
            assertEquals((resized[i] / 255.0 - 0.2860) / 0.3530, px[i], 1e-4);
        }
    }

    @Test
    void batchStacksSingleImages() {
        BufferedImage a = randomRgb(20, 20, 1);
        BufferedImage b = randomRgb(31, 17, 2);
        Preprocessing p = Preprocessing.imagenet(8);
        INDArray batch = p.applyAll(List.of(a, b));
        assertArrayEquals(new long[] {2, 3, 8, 8}, batch.shape());
        assertEquals(p.apply(b).reshape(3, 8, 8), batch.slice(1));
    }

    @Test
    void pathInputIsDecodedAndBadFilesAreNamed(@TempDir Path dir) throws IOException {
        BufferedImage img = randomRgb(12, 9, 3);
        Path png = dir.resolve("img.png");
        javax.imageio.ImageIO.write(img, "png", png.toFile());
        Preprocessing p = Preprocessing.imagenet(4);
        assertEquals(p.apply(img), p.apply(png));
        Path bad = dir.resolve("bad.png");
        Files.writeString(bad, "not an image");
        IOException e = assertThrows(IOException.class, () -> p.apply(bad));
        assertTrue(e.getMessage().contains("bad.png"), e.getMessage());
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Preprocessing.of(10, 8, new float[] {0}, new float[] {1}));
        assertThrows(IllegalArgumentException.class,
                () -> Preprocessing.of(8, 8, new float[] {0, 0}, new float[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> Preprocessing.of(8, 8, new float[] {0}, new float[] {0}));
        NFNetConfig four = NFNetConfig.builder(NFNetConfig.mnist()).inChannels(4).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preprocessing.forConfig(four));
        assertTrue(e.getMessage().contains("4 input channels"), e.getMessage());
    }
}
