package dev.nfnets.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nfnets.train.data.Normalization;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandAugmentTest {
    private static FloatImage randomNormalised(int c, int h, int w, Normalization n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] d = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < h * w; i++) {
                d[ch * h * w + i] = n.normalize(ch, rng.nextInt(256));
            }
        }
        return new FloatImage(d, c, h, w);
    }

    @Test
    void deterministicForASeedAndKeepsShape() {
        for (int c : new int[] {1, 3}) {
            Normalization n = c == 1 ? Normalization.FASHION_MNIST : Normalization.IMAGENET;
            RandAugment ra = RandAugment.scaledTo(4, 9, n, 16);
            FloatImage img = randomNormalised(c, 16, 12, n, 1);
            FloatImage a = ra.apply(img.copy(), new SplittableRandom(123));
            FloatImage b = ra.apply(img.copy(), new SplittableRandom(123));
            assertArrayEquals(img.shape(), a.shape());
            assertArrayEquals(a.data(), b.data());
            int differing = 0;
            for (long s = 0; s < 10; s++) {
                FloatImage o = ra.apply(img.copy(), new SplittableRandom(s));
                differing += Arrays.equals(o.data(), a.data()) ? 0 : 1;
                // outputs are normalised integer pixels in [0, 255]
                for (int ch = 0; ch < c; ch++) {
                    float v = n.denormalize(ch, o.data()[ch * 16 * 12 + 5]);
                    assertTrue(v > -0.01f && v < 255.01f && Math.abs(v - Math.round(v)) < 1e-3f, "v " + v);
                }
            }
            assertTrue(differing >= 8, "different seeds should give different images: " + differing);
        }
    }

    @Test
    void zeroLayersRoundTripsIntegerPixelsExactly() {
        Normalization n = Normalization.FASHION_MNIST;
        FloatImage img = randomNormalised(1, 28, 28, n, 4);
        float[] before = img.data().clone();
        new RandAugment(0, 10, n).apply(img, new SplittableRandom(1));
        assertArrayEquals(before, img.data(), 1e-6f);
    }

    private static int[] px(int... v) {
        return v;
    }

    @Test
    void individualOpsOnKnownPixels() {
        RandAugment m10 = new RandAugment(1, 10, Normalization.identity());
        RandAugment m5 = new RandAugment(1, 5, Normalization.identity());
        SplittableRandom rng = new SplittableRandom(0);
        // 1 channel, 1x4
        assertArrayEquals(px(255, 155, 55, 0), m10.applyOp(RandAugment.Op.INVERT, px(0, 100, 200, 255), 1, 1, 4, rng));
        // posterize M=5: int(2) bits kept -> mask 0b11000000
        assertArrayEquals(px(0, 64, 192, 192), m5.applyOp(RandAugment.Op.POSTERIZE, px(3, 100, 200, 255), 1, 1, 4, rng));
        // solarize M=5: threshold 128
        assertArrayEquals(px(3, 127, 127, 0), m5.applyOp(RandAugment.Op.SOLARIZE, px(3, 127, 128, 255), 1, 1, 4, rng));
        // solarize-add M=5: +55 below 128
        assertArrayEquals(px(58, 182, 128, 255), m5.applyOp(RandAugment.Op.SOLARIZE_ADD, px(3, 127, 128, 255), 1, 1, 4, rng));
        // autocontrast stretches [50, 150] to [0, 255]
        assertArrayEquals(px(0, 127, 255, 255), m5.applyOp(RandAugment.Op.AUTO_CONTRAST, px(50, 100, 150, 150), 1, 1, 4, rng));
        // brightness M=5: factor 1.0 is the identity
        assertArrayEquals(px(3, 100, 200, 255), m5.applyOp(RandAugment.Op.BRIGHTNESS, px(3, 100, 200, 255), 1, 1, 4, rng));
        // brightness M=0: factor 0.1, truncated
        RandAugment m0 = new RandAugment(1, 0, Normalization.identity());
        assertArrayEquals(px(0, 10, 20, 25), m0.applyOp(RandAugment.Op.BRIGHTNESS, px(3, 100, 200, 255), 1, 1, 4, rng));
        // equalize (PIL semantics): two levels of 255 pixels each -> step 1, levels go to 0 and 255
        int[] two = new int[510];
        Arrays.fill(two, 255, 510, 200);
        Arrays.fill(two, 0, 255, 10);
        int[] eq = m5.applyOp(RandAugment.Op.EQUALIZE, two, 1, 1, 510, rng);
        assertEquals(0, eq[0]);
        assertEquals(255, eq[300]);
        // too few pixels (step 0): unchanged
        assertArrayEquals(px(10, 10, 200, 200), m5.applyOp(RandAugment.Op.EQUALIZE, px(10, 10, 200, 200), 1, 1, 4, rng));
        // contrast M=10 (factor 1.9) around the true mean 100
        assertArrayEquals(px(5, 195), m10.applyOp(RandAugment.Op.CONTRAST, px(50, 150), 1, 1, 2, rng));
    }

    @Test
    void geometricOpsFillWith128() {
        RandAugment ra = new RandAugment(1, 10, Normalization.identity(), 2, 1);
        int[] img = new int[3 * 4 * 5];
        for (int i = 0; i < img.length; i++) {
            img[i] = i;
        }
        // translate by 2 pixels in x: content moves by 2 columns, 128 comes in
        int[] t = ra.applyOp(RandAugment.Op.TRANSLATE_X, img.clone(), 3, 4, 5, new SplittableRandom(0));
        boolean left = new SplittableRandom(0).nextBoolean(); // true: negative shift
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    int sx = left ? x - 2 : x + 2;
                    int expected = sx >= 0 && sx < 5 ? img[(c * 4 + y) * 5 + sx] : 128;
                    assertEquals(expected, t[(c * 4 + y) * 5 + x]);
                }
            }
        }
        // cutout M=10, half size 1: a 2x2 block (clipped) of 128 in every channel
        int[] cut = ra.applyOp(RandAugment.Op.CUTOUT, new int[3 * 4 * 5], 3, 4, 5, new SplittableRandom(5));
        int filled = 0;
        for (int v : cut) {
            filled += v == 128 ? 1 : 0;
        }
        assertTrue(filled > 0 && filled <= 12 && filled % 3 == 0, "filled " + filled);
        // rotate by 30 degrees keeps the centre pixel of an odd-sized image
        int[] sq = new int[25];
        sq[12] = 77;
        int[] r = ra.applyOp(RandAugment.Op.ROTATE, sq, 1, 5, 5, new SplittableRandom(2));
        assertEquals(77, r[12]);
        assertFalse(Arrays.stream(r).allMatch(v -> v != 128), "corners are filled");
    }
}
