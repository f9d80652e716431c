package dev.nfnets.core.inference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfResizeTest {

    static float[] random(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] d = new float[n];
        for (int i = 0; i < d.length; i++) {
            d[i] = rng.nextInt(256);
        }
        return d;
    }

    @ParameterizedTest(name = "{0}x{1} -> {2}x{3}")
    @CsvSource({"7, 5, 13, 9", "9, 11, 4, 3", "6, 6, 40, 40", "17, 13, 5, 8", "3, 2, 1, 7", "1, 1, 3, 2"})
    void bicubicMatchesANaiveDoubleReference(int h, int w, int outH, int outW) {
        float[] src = random(3 * h * w, h * 31L + w);
        float[] got = TfResize.resize(src, 3, h, w, outH, outW, TfResize.Method.BICUBIC);
        double[] want = NaiveTfResize.bicubic(src, 3, h, w, outH, outW);
        assertEquals(want.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(want[i], got[i], 2e-3, "pixel " + i);
        }
    }

    @Test
    void constantImageStaysConstant() {
        float[] k = new float[2 * 9 * 11];
        Arrays.fill(k, 42.5f);
        for (int[] size : new int[][] {{4, 3}, {20, 30}, {9, 11}, {1, 1}}) {
            for (TfResize.Method m : TfResize.Method.values()) {
                for (float v : TfResize.resize(k, 2, 9, 11, size[0], size[1], m)) {
                    assertEquals(42.5f, v, 1e-4f, m + " " + Arrays.toString(size));
                }
            }
        }
    }

    @Test
    void sameSizeIsExactlyTheIdentity() {
        float[] src = random(3 * 7 * 5, 2);
        for (int i = 0; i < src.length; i += 3) {
            src[i] += 0.123f;   // not only integers
        }
        for (TfResize.Method m : TfResize.Method.values()) {
            assertArrayEquals(src, TfResize.resize(src, 3, 7, 5, 7, 5, m), m.name());
        }
    }

    /**
     * 8 -> 4 samples at 2o + 0.5: fraction exactly 1/2, Keys weights (-1/16, 9/16, 9/16, -1/16) on taps
     * 2o-1 .. 2o+2. A linear ramp is reproduced inside; at the borders one tap falls outside and the other
     * three, renormalised by 17/16, give 7/17 on the left and 112/17 on the right for the ramp 0..7.
     */
    @Test
    void eightToFourDownscaleOfARampByHand() {
        float[] ramp = new float[64];
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                ramp[y * 8 + x] = x + 8 * y;
            }
        }
        double[] f = {7.0 / 17, 2.5, 4.5, 112.0 / 17};
        float[] out = TfResize.resize(ramp, 1, 8, 8, 4, 4, TfResize.Method.BICUBIC);
        for (int oy = 0; oy < 4; oy++) {
            for (int ox = 0; ox < 4; ox++) {
                assertEquals(f[ox] + 8 * f[oy], out[oy * 4 + ox], 1e-4, "(" + oy + "," + ox + ")");
            }
        }
    }

    @Test
    void windowEqualsResizeThenCrop() {
        float[] src = random(3 * 23 * 31, 5);
        float[] full = TfResize.resize(src, 3, 23, 31, 40, 40, TfResize.Method.BICUBIC);
        float[] win = TfResize.resample(src, 3, 23, 31, TfResize.Box.whole(23, 31), 40, 40,
                new TfResize.Box(16, 16, 8, 8), TfResize.Method.BICUBIC);
        float[] crop = new float[3 * 8 * 8];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                System.arraycopy(full, (c * 40 + 16 + y) * 40 + 16, crop, (c * 8 + y) * 8, 8);
            }
        }
        assertArrayEquals(crop, win);
    }

    @Test
    void regionResizeEqualsResizingTheCroppedImage() {
        float[] src = random(2 * 10 * 12, 8);
        float[] cropped = new float[2 * 5 * 6];
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 5; y++) {
                System.arraycopy(src, (c * 10 + 3 + y) * 12 + 4, cropped, (c * 5 + y) * 6, 6);
            }
        }
        float[] direct = TfResize.resample(src, 2, 10, 12, new TfResize.Box(3, 4, 5, 6), 9, 7,
                TfResize.Box.whole(9, 7), TfResize.Method.BICUBIC);
        assertArrayEquals(TfResize.resize(cropped, 2, 5, 6, 9, 7, TfResize.Method.BICUBIC), direct);
    }

    @Test
    void upscaledStepOvershootsBecauseNothingIsClamped() {
        float[] step = {0, 0, 0, 255, 255, 255};
        float[] out = TfResize.resize(step, 1, 1, 6, 1, 12, TfResize.Method.BICUBIC);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : out) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min < 0f && max > 255f, min + " " + max);
    }

    @Test
    void badGeometryIsAClearError() {
        float[] src = new float[3 * 4 * 4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfResize.resample(src, 3, 4,
                4, new TfResize.Box(2, 0, 4, 4), 8, 8, TfResize.Box.whole(8, 8), TfResize.Method.BICUBIC));
        assertTrue(e.getMessage().contains("not inside a 4x4 image"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TfResize.resample(src, 3, 4, 4,
                TfResize.Box.whole(4, 4), 8, 8, new TfResize.Box(4, 4, 5, 5), TfResize.Method.BICUBIC));
        assertTrue(e.getMessage().contains("resized size 8x8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TfResize.resize(src, 3, 5, 4, 2, 2, TfResize.Method.BICUBIC));
        assertTrue(e.getMessage().contains("3x5x4"), e.getMessage());
    }
}
