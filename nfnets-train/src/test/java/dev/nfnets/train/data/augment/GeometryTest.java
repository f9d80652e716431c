package dev.nfnets.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeometryTest {
    @Test
    void flipOfKnown2x3Image() {
        // two channels of a 2x3 image
        FloatImage img = new FloatImage(new float[] {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, 2, 2, 3);
        new HorizontalFlip(1.0).apply(img, new SplittableRandom(1));
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 30, 20, 10, 60, 50, 40}, img.data());
        new HorizontalFlip(0.0).apply(img, new SplittableRandom(1));
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 30, 20, 10, 60, 50, 40}, img.data());
        // p = 0.5 flips about half the time
        int flips = 0;
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 1000; i++) {
            FloatImage one = new FloatImage(new float[] {1, 2}, 1, 1, 2);
            new HorizontalFlip().apply(one, rng);
            flips += one.data()[0] == 2 ? 1 : 0;
        }
        assertTrue(flips > 430 && flips < 570, "flips " + flips);
    }

    @Test
    void cropWithPaddingKeepsShapeAndShiftsContent() {
        int h = 5;
        int w = 6;
        float[] d = new float[2 * h * w];
        for (int i = 0; i < d.length; i++) {
            d[i] = i + 1;
        }
        FloatImage img = new FloatImage(d, 2, h, w);
        // explicit shift: out(y, x) = in(y + 1, x - 2), fill outside
        FloatImage s = RandomCropWithPadding.shift(img, 1, -2, -7f);
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int iy = y + 1;
                    int ix = x - 2;
                    float expected = iy < h && ix >= 0 ? img.get(c, iy, ix) : -7f;
                    assertEquals(expected, s.get(c, y, x));
                }
            }
        }
        // the random op is that shift with offsets drawn in [0, 2*pad]
        RandomCropWithPadding op = new RandomCropWithPadding(3, -1f);
        for (long seed = 0; seed < 20; seed++) {
            SplittableRandom probe = new SplittableRandom(seed);
            int sy = probe.nextInt(7) - 3;
            int sx = probe.nextInt(7) - 3;
            FloatImage out = op.apply(img.copy(), new SplittableRandom(seed));
            assertArrayEquals(img.shape(), out.shape());
            assertArrayEquals(RandomCropWithPadding.shift(img, sy, sx, -1f).data(), out.data());
        }
        // pad 0 is the identity
        assertArrayEquals(d, new RandomCropWithPadding(0).apply(img, new SplittableRandom(3)).data());
    }

    @Test
    void resizeKnownValues() {
        FloatImage row = new FloatImage(new float[] {0, 10}, 1, 1, 2);
        FloatImage up = Resize.resize(row, 1, 4, Interpolation.BILINEAR);
        assertArrayEquals(new float[] {0f, 2.5f, 7.5f, 10f}, up.data(), 1e-6f);
        FloatImage near = Resize.resize(row, 1, 4, Interpolation.NEAREST);
        assertArrayEquals(new float[] {0f, 0f, 10f, 10f}, near.data());

        // same size is the identity for every kernel
        float[] d = new float[3 * 7 * 5];
        SplittableRandom rng = new SplittableRandom(2);
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) rng.nextDouble(-50, 300);
        }
        FloatImage img = new FloatImage(d, 3, 7, 5);
        for (Interpolation in : Interpolation.values()) {
            assertArrayEquals(d, Resize.resize(img, 7, 5, in).data(), 1e-4f, in.name());
        }
        // a constant stays constant (bicubic weights renormalised at the borders)
        float[] k = new float[9 * 11];
        java.util.Arrays.fill(k, 42f);
        FloatImage down = Resize.resize(new FloatImage(k, 1, 9, 11), 4, 3, Interpolation.BICUBIC);
        for (float v : down.data()) {
            assertEquals(42f, v, 1e-3f);
        }
        // bicubic overshoots at a step edge (no clamping), like TF
        FloatImage step = new FloatImage(new float[] {0, 0, 0, 255, 255, 255}, 1, 1, 6);
        FloatImage st = Resize.resize(step, 1, 12, Interpolation.BICUBIC);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : st.data()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min < 0f && max > 255f, min + " " + max);
        assertEquals(0f, st.data()[0], 1e-4f);
        assertEquals(255f, st.data()[11], 1e-4f);
    }

    @Test
    void randomResizedCropShapeBoundsAndFallback() {
        RandomResizedCrop rrc = new RandomResizedCrop(8, 8, Interpolation.BICUBIC);
        FloatImage img = FloatImage.zeros(3, 40, 30);
        SplittableRandom rng = new SplittableRandom(9);
        int fallbacks = 0;
        for (int i = 0; i < 500; i++) {
            RandomResizedCrop.Crop c = rrc.sample(40, 30, rng);
            assertTrue(c.y() >= 0 && c.x() >= 0 && c.y() + c.h() <= 40 && c.x() + c.w() <= 30, c.toString());
            if (c.fallback()) {
                fallbacks++;
                continue;
            }
            double area = (double) c.h() * c.w() / (40 * 30);
            assertTrue(area >= 0.1 - 1e-9 && area <= 1.0, "area " + area);
            double ratio = (double) c.w() / c.h();
            assertTrue(ratio > 0.6 && ratio < 1.6, "ratio " + ratio);
        }
        assertTrue(fallbacks < 25, "fallbacks " + fallbacks);
        FloatImage out = rrc.apply(img, new SplittableRandom(1));
        assertArrayEquals(new int[] {3, 8, 8}, out.shape());
        assertArrayEquals(new int[] {3, 8, 8}, rrc.outputShape(3, 40, 30));
        assertNotSame(img, out);

        // no crop of at least half the area fits a 4x100 strip with ratio in [3/4, 4/3]: padded centre crop
        RandomResizedCrop strict = new RandomResizedCrop(8, 8, Interpolation.BILINEAR, 0.5, 1.0, 0.75, 4.0 / 3, 10, 0.1);
        RandomResizedCrop.Crop c = strict.sample(4, 100, new SplittableRandom(3));
        assertTrue(c.fallback());
        int side = (int) (8.0 / 40 * 4); // min(H,W) * S / (S + 32)
        assertEquals(Math.max(1, side), c.h());
        assertEquals((100 - c.w() + 1) / 2, c.x());

        // deterministic for a seed
        float[] d = new float[3 * 40 * 30];
        for (int i = 0; i < d.length; i++) {
            d[i] = i % 97;
        }
        FloatImage a = rrc.apply(new FloatImage(d.clone(), 3, 40, 30), new SplittableRandom(77));
        FloatImage b = rrc.apply(new FloatImage(d.clone(), 3, 40, 30), new SplittableRandom(77));
        assertArrayEquals(a.data(), b.data());
    }
}
