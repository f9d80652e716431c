package dev.nfnets.layers;

import dev.nfnets.layers.kernels.DoubleDotKernel;
import dev.nfnets.layers.optim.Sgd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FloatKernels} and the layers' passes built on it, each against the native ops it replaces. */
class FloatKernelsTest {
    @AfterEach
    void restore() {
        FloatKernels.setThreads(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())));
    }

    private static final NFNetsOptions ON = NFNetsOptions.builtIn();
    private static final NFNetsOptions OFF = NFNetsOptions.builder().floatKernels(false).build();

    private static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void eligibilityAndBuffers() {
        INDArray a = Nd4j.linspace(1, 12, 12, DataType.FLOAT).reshape(3, 4);
        assertTrue(FloatKernels.eligible(ON, a));
        assertFalse(FloatKernels.eligible(ON, a.castTo(DataType.DOUBLE)), "double");
        assertFalse(FloatKernels.eligible(ON, a.get(NDArrayIndex.interval(1, 3))), "a view with an offset");
        assertFalse(FloatKernels.eligible(ON, a.transpose()), "f order");
        FloatBuffer b = FloatKernels.floats(a);
        assertEquals(a.getFloat(2, 1), b.get(9));
        b.put(5, 42f);
        assertEquals(42f, a.getFloat(1, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FloatKernels.floats(a.get(NDArrayIndex.interval(1, 3))));
        assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
        assertFalse(FloatKernels.eligible(OFF, a), "switched off");
        assertTrue(FloatKernels.dense(a), "dense whatever the options");
        assertThrows(IllegalArgumentException.class, () -> FloatKernels.setThreads(0));
    }

    /** Every index is visited exactly once whatever the split, and exceptions of worker ranges reach the caller. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void parallelCoversEveryIndexOnce(int threads) {
        FloatKernels.setThreads(threads);
        int n = 100_003;
        int[] seen = new int[n];
        FloatKernels.parallel(n, FloatKernels.PARALLEL_MIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                seen[i]++;
            }
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen[i], "index " + i);
        }
        AtomicInteger calls = new AtomicInteger();
        FloatKernels.parallel(10, (from, to) -> calls.incrementAndGet());
        assertEquals(1, calls.get(), "small passes run on the calling thread");
        calls.set(0);
        FloatKernels.parallel(n, FloatKernels.PARALLEL_MIN - 1, (from, to) -> calls.incrementAndGet());
        assertEquals(1, calls.get(), "passes below the work threshold run on the calling thread");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FloatKernels.parallel(n,
                FloatKernels.PARALLEL_MIN, (from, to) -> {
            if (to == n) {
                throw new IllegalStateException("last range");
            }
        }));
        assertEquals("last range", e.getMessage());
    }

    /** Passes in quick succession (ranges claimed by whichever thread comes first) each run every range once. */
    @Test
    void passesInQuickSuccessionRunEveryRangeOnce() {
        FloatKernels.setThreads(2);
        int n = 40_000;
        java.util.concurrent.atomic.AtomicLong covered = new java.util.concurrent.atomic.AtomicLong();
        for (int pass = 0; pass < 3000; pass++) {
            covered.set(0);
            FloatKernels.parallel(n, FloatKernels.PARALLEL_MIN, (from, to) -> covered.addAndGet(to - from));
            assertEquals(n, covered.get(), "pass " + pass);
        }
    }

    /**
     * Every kind of column sum gives the same bits on one, two and three threads, and those bits are the documented
     * order: float sums over blocks of {@link FloatKernels#ROW_BLOCK} rows, added in double block by block. The row
     * count is not a multiple of the block, and the work is enough to run on several threads.
     */
    @Test
    void columnSumsAreIndependentOfThreads() {
        int cols = 123;
        int rows = FloatKernels.PARALLEL_MIN / cols + 100;
        assertTrue(rows % FloatKernels.ROW_BLOCK != 0);
        INDArray m = Nd4j.randn(DataType.FLOAT, rows, cols);
        INDArray w = Nd4j.randn(DataType.FLOAT, rows, cols).addi(2);
        double[] center = new double[cols];
        for (int c = 0; c < cols; c++) {
            center[c] = 2 + 0.01 * c;
        }
        float[] a = m.data().asFloat();
        float[] bv = w.data().asFloat();
        for (FloatKernels.ColumnSum kind : FloatKernels.ColumnSum.values()) {
            double[] e1 = new double[cols];
            double[] e2 = new double[cols];
            for (int r0 = 0; r0 < rows; r0 += FloatKernels.ROW_BLOCK) {
                float[] p1 = new float[cols];
                float[] p2 = new float[cols];
                for (int r = r0; r < Math.min(rows, r0 + FloatKernels.ROW_BLOCK); r++) {
                    for (int c = 0; c < cols; c++) {
                        float x = a[r * cols + c];
                        switch (kind) {
                            case SUM -> p1[c] += x;
                            case SQUARES -> p1[c] += x * x;
                            case SUM_AND_CENTRED_PRODUCT -> {
                                p1[c] += x;
                                p2[c] += x * (bv[r * cols + c] - (float) center[c]);
                            }
                            case SHIFTED_SUM_AND_SQUARES -> {
                                float d = x - (float) center[c];
                                p1[c] += d;
                                p2[c] += d * d;
                            }
                        }
                    }
                }
                for (int c = 0; c < cols; c++) {
                    e1[c] += p1[c];
                    e2[c] += p2[c];
                }
            }
            for (int t = 1; t <= 3; t++) {
                FloatKernels.setThreads(t);
                double[] s1 = new double[cols];
                double[] s2 = new double[cols];
                FloatKernels.columnReduce(kind, FloatKernels.floats(m), FloatKernels.floats(w), rows, cols, center, s1, s2);
                assertArrayEquals(e1, s1, 0.0, kind + " on " + t + " threads");
                if (kind == FloatKernels.ColumnSum.SUM_AND_CENTRED_PRODUCT || kind == FloatKernels.ColumnSum.SHIFTED_SUM_AND_SQUARES) {
                    assertArrayEquals(e2, s2, 0.0, kind + " (second sum) on " + t + " threads");
                }
            }
        }
        FloatKernels.setThreads(2);
        double[] sums = new double[cols];
        double[] squares = new double[cols];
        FloatKernels.columnSums(FloatKernels.floats(m), rows, cols, sums);
        FloatKernels.columnSquares(FloatKernels.floats(m), rows, cols, squares);
        // blocks of 32 rows are summed in float, the blocks in double: float rounding of ~32 terms at most
        double[] expected = m.castTo(DataType.DOUBLE).sum(0).toDoubleVector();
        assertArrayEquals(expected, sums, 1e-4);
        double[] expectedSq = m.castTo(DataType.DOUBLE).mul(m.castTo(DataType.DOUBLE)).sum(0).toDoubleVector();
        for (int c = 0; c < cols; c++) {
            assertEquals(expectedSq[c], squares[c], 1e-6 * expectedSq[c], "column " + c);
        }
    }

    /**
     * The one-pass mean and centred sum of squares, shifted by the first row, agree with the two-pass sums in double
     * even when the columns sit far from zero (where unshifted sums of squares would cancel), on one thread or two.
     */
    @Test
    void shiftedSumsGiveMeanAndCentredSquaresInOnePass() {
        int cols = 37;
        int rows = FloatKernels.PARALLEL_MIN / cols + 50;
        INDArray m = Nd4j.randn(DataType.FLOAT, rows, cols).muli(0.05).addi(Nd4j.linspace(-300, 300, cols, DataType.FLOAT));
        double[] x = m.castTo(DataType.DOUBLE).data().asDouble();
        double[] first = new double[cols];
        for (int c = 0; c < cols; c++) {
            first[c] = x[c];
        }
        double[][] means = new double[2][cols];
        double[][] squares = new double[2][cols];
        for (int t = 1; t <= 2; t++) {
            FloatKernels.setThreads(t);
            double[] s1 = new double[cols];
            double[] s2 = new double[cols];
            FloatKernels.columnReduce(FloatKernels.ColumnSum.SHIFTED_SUM_AND_SQUARES, FloatKernels.floats(m), null, rows,
                    cols, first, s1, s2);
            for (int c = 0; c < cols; c++) {
                means[t - 1][c] = first[c] + s1[c] / rows;
                squares[t - 1][c] = s2[c] - s1[c] * s1[c] / rows;
            }
        }
        assertArrayEquals(means[0], means[1], 0.0, "independent of the thread count");
        assertArrayEquals(squares[0], squares[1], 0.0, "independent of the thread count");
        for (int c = 0; c < cols; c++) {
            double mean = 0;
            for (int r = 0; r < rows; r++) {
                mean += x[r * cols + c];
            }
            mean /= rows;
            double sq = 0;
            for (int r = 0; r < rows; r++) {
                double d = x[r * cols + c] - mean;
                sq += d * d;
            }
            assertEquals(mean, means[0][c], 1e-7 * Math.max(1, Math.abs(mean)), "mean of column " + c);
            assertEquals(sq, squares[0][c], 1e-5 * sq, "centred squares of column " + c);
        }
    }

    /** {@link FloatKernels#map}: ragged chunks, in place, two outputs, the same on one thread and on two. */
    @Test
    void mapCoversEveryElementInPlaceOnAnyThreadCount() {
        int n = 3 * FloatKernels.CHUNK + 1234 + FloatKernels.PARALLEL_MIN / 3; // over the threshold with 3 buffers
        float[][] results = new float[2][];
        for (int t = 1; t <= 2; t++) {
            FloatKernels.setThreads(t);
            INDArray a = Nd4j.linspace(1, n, n, DataType.FLOAT);
            float[] a0 = a.toFloatVector();
            INDArray b = Nd4j.createUninitialized(DataType.FLOAT, n);
            FloatBuffer ab = FloatKernels.floats(a);
            FloatKernels.map(n, new FloatBuffer[] {ab}, new FloatBuffer[] {ab, FloatKernels.floats(b)}, (in, out, d, m) -> {
                for (int i = 0; i < m; i++) {
                    d[i] = in[0][i];
                    out[0][i] = in[0][i] * 2;
                    out[1][i] = (float) (d[i] + 1);
                }
            });
            float[] a1 = a.toFloatVector();
            float[] b1 = b.toFloatVector();
            for (int i = 0; i < n; i++) {
                assertEquals(2f * a0[i], a1[i], 0f, "in place at " + i);
                assertEquals((float) (a0[i] + 1.0), b1[i], 0f, "second output at " + i);
            }
            results[t - 1] = b.toFloatVector();
        }
        assertArrayEquals(results[0], results[1]);
    }

    /** The layer's GELU pass (forward, gate, backward) against the activation's native ops, gain included. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void geluLayerAgreesWithTheNativeOps(boolean training) {
        INDArray x = Nd4j.linspace(-9, 9, 2 * 3 * 80 * 80, DataType.FLOAT).reshape(2, 3, 80, 80);
        INDArray g = Nd4j.randn(DataType.FLOAT, 2, 3, 80, 80);
        Mode mode = training ? Mode.TRAIN : Mode.EVAL;
        double gain = 1.7015043497085571;
        ActivationLayer kernels = new ActivationLayer("gelu", Activation.GELU, gain);
        kernels.useOptions(ON.toBuilder().oneDnnEltwise(false).build()); // the Java pass (the oneDNN one: ActivationTest)
        INDArray yk = kernels.forward(x, mode);
        ActivationLayer nat = new ActivationLayer("gelu", Activation.GELU, gain);
        nat.useOptions(OFF.toBuilder().oneDnnEltwise(false).build());
        INDArray yn = nat.forward(x, mode);
        assertTrue(maxDiff(yk, yn) < 2e-6, "forward differs by " + maxDiff(yk, yn));
        if (training) {
            INDArray dn = nat.backward(g);
            INDArray dk = kernels.backward(g);
            // the same bound as the gate against the recomputed derivative (ActivationTest), times gain and |g|
            double bound = 4e-6 * gain * g.amaxNumber().doubleValue();
            assertTrue(maxDiff(dk, dn) < bound, "backward differs by " + maxDiff(dk, dn) + " (bound " + bound + ")");
        }
    }

    /** Nesterov SGD with weight decay on a large FLOAT parameter, one fused pass against the in-place native ops. */
    @Test
    void sgdAgreesWithTheNativeOps() {
        Map<String, INDArray> results = new LinkedHashMap<>();
        for (boolean on : new boolean[] {true, false}) {
            {
                Nd4j.getRandom().setSeed(11);
                Parameter p = new Parameter("w", Nd4j.randn(DataType.FLOAT, 3, 3, 64, 80), Tag.WEIGHT);
                Sgd sgd = Sgd.builder().learningRate(0.2).momentum(0.9).nesterov(true).weightDecay(0.01).build();
                sgd.useOptions(NFNetsOptions.builder().floatKernels(on).hostMaxElements(0).build());
                Map<String, Parameter> params = Map.of("w", p);
                for (int step = 0; step < 3; step++) {
                    p.grad().assign(Nd4j.randn(DataType.FLOAT, p.shape()));
                    sgd.step(params);
                    p.zeroGrad();
                }
                results.put("w " + on, p.value().dup());
                results.put("momentum " + on, sgd.state().get("momentum/w").dup());
            }
        }
        assertTrue(maxDiff(results.get("w true"), results.get("w false")) < 1e-5, "weights");
        assertTrue(maxDiff(results.get("momentum true"), results.get("momentum false")) < 1e-5, "momentum");
    }

    /** A convolution's bias gradient (sum over batch and space) on the float pass and as ND4J's reduction. */
    @Test
    void convolutionBiasGradientAgreesWithTheNativeReduction() {
        INDArray[] grads = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            Nd4j.getRandom().setSeed(21);
            Conv2d conv = new Conv2d("conv", 6, 8, 3, 1, Padding.SAME, 2, true);
            conv.useOptions(k == 0 ? ON : OFF);
            INDArray x = Nd4j.randn(DataType.FLOAT, 3, 6, 33, 31);
            conv.forward(x, Mode.TRAIN);
            conv.backward(Nd4j.randn(DataType.FLOAT, 3, 8, 33, 31));
            conv.backward(Nd4j.randn(DataType.FLOAT, 3, 8, 33, 31).muli(2)); // accumulates
            grads[k] = conv.bias().grad().dup();
        }
        assertTrue(maxDiff(grads[0], grads[1]) < 1e-3, "bias gradients differ by " + maxDiff(grads[0], grads[1]));
        assertTrue(grads[0].amaxNumber().doubleValue() > 1, "a sum of ~3000 N(0,1) terms per channel");
    }

    /** The double-accumulated dot product: equal to the sum in double, and the same for any thread count. */
    @Test
    void dotInDoubleMatchesTheDoubleSum() {
        INDArray a = Nd4j.randn(DataType.FLOAT, 70_001);
        INDArray b = Nd4j.randn(DataType.FLOAT, 70_001);
        double expected = a.castTo(DataType.DOUBLE).mul(b.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
        FloatKernels.setThreads(1);
        double one = DoubleDotKernel.FLOAT.dot(a, b, ON);
        FloatKernels.setThreads(2);
        double two = DoubleDotKernel.FLOAT.dot(a, b, ON);
        assertEquals(expected, one, 1e-9 * Math.abs(expected) + 1e-9);
        assertEquals(one, two, 0.0);
        assertSame(DoubleDotKernel.FLOAT, DoubleDotKernel.choose(a, b, ON));
        assertSame(DoubleDotKernel.REFERENCE, DoubleDotKernel.choose(a, b, OFF));
        assertEquals(expected, DoubleDotKernel.REFERENCE.dot(a, b, OFF), 1e-9);
    }
}
