package dev.nfnets.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nfnets.train.data.HostBatch;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MixingTest {
    /** n examples of c x h x w; example i is the constant i + 1 and has label i (K = n). */
    private static HostBatch constants(int n, int c, int h, int w) {
        HostBatch b = HostBatch.allocate(n, c, h, w, n);
        int len = c * h * w;
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(b.images(), i * len, (i + 1) * len, i + 1);
            b.setOneHot(i, i);
        }
        return b;
    }

    private static void assertRowsSumToOne(HostBatch b) {
        int k = b.numClasses();
        for (int i = 0; i < b.size(); i++) {
            float s = 0;
            for (int j = 0; j < k; j++) {
                assertTrue(b.targets()[i * k + j] >= 0f);
                s += b.targets()[i * k + j];
            }
            assertEquals(1f, s, 1e-6f, "row " + i);
        }
    }

    @Test
    void pairHalvesMixUpAndCutMixFollowTheReferenceLayout() {
        int c = 2;
        int h = 6;
        int w = 8;
        HostBatch in = constants(8, c, h, w);
        MixUpCutMix mixer = new MixUpCutMix(0.2, MixUpCutMix.Mode.PAIR_HALVES);
        assertEquals(8, mixer.inputSize(4));
        assertEquals(4, mixer.outputSize(8));
        for (long seed = 0; seed < 30; seed++) {
            HostBatch out = mixer.mix(in, new SplittableRandom(seed));
            assertEquals(4, out.size());
            assertRowsSumToOne(out);
            int len = c * h * w;
            // outputs 0, 1: MixUp of inputs (0, 2) and (1, 3)
            for (int i = 0; i < 2; i++) {
                int a = i;
                int b = 2 + i;
                float lam = out.targets()[i * 8 + a];
                assertEquals(1f - lam, out.targets()[i * 8 + b], 1e-6f);
                for (int p = 0; p < len; p++) {
                    assertEquals(lam * (a + 1) + (1 - lam) * (b + 1), out.images()[i * len + p], 1e-5f);
                }
                assertEquals(lam >= 0.5f ? a : b, out.labels()[i]);
            }
            // outputs 2, 3: CutMix of inputs (4, 6) and (5, 7); pixels in the box from the first
            for (int i = 2; i < 4; i++) {
                int a = 2 + i;
                int b = 4 + i;
                int fromA = 0;
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < h * w; p++) {
                        float v = out.images()[i * len + ch * h * w + p];
                        assertTrue(v == a + 1 || v == b + 1, "pixel " + v);
                        if (v == a + 1) {
                            fromA++;
                        }
                    }
                }
                float ratio = (float) fromA / (c * h * w);
                assertEquals(ratio, out.targets()[i * 8 + a], 1e-6f);
                assertEquals(1f - ratio, out.targets()[i * 8 + b], 1e-6f);
                assertEquals(ratio >= 0.5f ? a : b, out.labels()[i]);
            }
        }
    }

    @Test
    void cutMixBoxMatchesPastedPixels() {
        int h = 10;
        int w = 7;
        for (long seed = 0; seed < 50; seed++) {
            CutMix.Box box = CutMix.sampleBox(h, w, new SplittableRandom(seed));
            assertTrue(box.y0() >= 0 && box.y1() <= h && box.x0() >= 0 && box.x1() <= w);
            float[] first = new float[h * w];
            float[] second = new float[h * w];
            java.util.Arrays.fill(first, 1f);
            float[] dst = new float[h * w];
            float ratio = CutMix.paste(first, 0, second, 0, dst, 0, 1, h, w, box);
            int inBox = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    assertEquals(box.contains(y, x) ? 1f : 0f, dst[y * w + x]);
                    inBox += box.contains(y, x) ? 1 : 0;
                }
            }
            assertEquals((float) inBox / (h * w), ratio, 1e-7f);
            assertEquals(box.area(), inBox);
        }
    }

    @Test
    void permutationModeKeepsBatchSize() {
        HostBatch in = constants(6, 1, 4, 4);
        MixUpCutMix mixer = new MixUpCutMix(0.4, MixUpCutMix.Mode.PERMUTATION);
        assertEquals(6, mixer.inputSize(6));
        HostBatch out = mixer.mix(in, new SplittableRandom(3));
        assertEquals(6, out.size());
        assertRowsSumToOne(out);
        HostBatch again = mixer.mix(in, new SplittableRandom(3));
        assertArrayEquals(out.images(), again.images());
        assertArrayEquals(out.targets(), again.targets());
        // MixUp only
        HostBatch mu = new MixUpCutMix(1.0, MixUpCutMix.Mode.PERMUTATION, 1.0).mix(in, new SplittableRandom(8));
        assertRowsSumToOne(mu);
    }

    @Test
    void betaAndGammaSamplesHaveTheRightMoments() {
        SplittableRandom rng = new SplittableRandom(42);
        int n = 20_000;
        double sum = 0;
        double sumBeta = 0;
        int extreme = 0;
        for (int i = 0; i < n; i++) {
            sum += Sampling.gamma(3.0, rng);
            double b = Sampling.beta(0.2, 0.2, rng);
            assertTrue(b >= 0 && b <= 1);
            sumBeta += b;
            if (b < 0.05 || b > 0.95) {
                extreme++;
            }
        }
        assertEquals(3.0, sum / n, 0.06);
        assertEquals(0.5, sumBeta / n, 0.02);
        assertTrue(extreme > n / 3, "Beta(0.2,0.2) is U-shaped: " + extreme);
        double s25 = 0;
        for (int i = 0; i < n; i++) {
            s25 += Sampling.beta(2, 5, rng);
        }
        assertEquals(2.0 / 7.0, s25 / n, 0.01);
        double g05 = 0;
        for (int i = 0; i < n; i++) {
            g05 += Sampling.gamma(0.5, rng);
        }
        assertEquals(0.5, g05 / n, 0.03);
    }

    @Test
    void labelSmoothing() {
        INDArray t = Nd4j.createFromArray(new float[][] {{0f, 1f, 0f, 0f}, {0.25f, 0.75f, 0f, 0f}});
        INDArray s = LabelSmoothing.smooth(t, 0.1);
        assertArrayEquals(new float[] {0.025f, 0.925f, 0.025f, 0.025f}, s.getRow(0).toFloatVector(), 1e-6f);
        assertArrayEquals(new float[] {0.25f * 0.9f + 0.025f, 0.75f * 0.9f + 0.025f, 0.025f, 0.025f},
                s.getRow(1).toFloatVector(), 1e-6f);
        assertEquals(1f, t.getFloat(0, 1)); // input untouched
        float[] f = {1f, 0f};
        LabelSmoothing.smoothInPlace(f, 2, 0.2);
        assertArrayEquals(new float[] {0.9f, 0.1f}, f, 1e-6f);
    }
}
