package dev.nfnets.layers;

import dev.nfnets.layers.kernels.OneDnnConv;
import dev.nfnets.layers.kernels.OneDnnEltwise;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Conv2dTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(6872);
        // the small shapes here take the pointwise GEMMs too (1x1 FLOAT convolutions through oneDNN: KernelsTest)
        options = NFNetsOptions.builder().pointwiseMinMacs(0).oneDnnPointwise(false).build();
    }

    /** The options of the convolutions built by this test ({@link #conv}). */
    private NFNetsOptions options;

    private Conv2d conv(String name, int in, int out, int k, int s, Padding pad, int groups, boolean bias) {
        Conv2d c = new Conv2d(name, in, out, k, s, pad, groups, bias);
        c.useOptions(options);
        return c;
    }

    private void set(java.util.function.UnaryOperator<NFNetsOptions.Builder> change) {
        options = change.apply(options.toBuilder()).build();
    }

    @Test
    void oneDnnNativesLoad() {
        assertTrue(OneDnnConv.available(), "org.bytedeco:dnnl natives missing: spatial convolutions would fall back to ND4J's ops");
    }

    /** Inputs of many sizes do not grow the cache of oneDNN primitives without bound. */
    @Test
    void oneDnnPlanCacheIsBounded() {
        Conv2d conv = conv("c", 2, 2, 3, 1, Padding.SAME, 1, false);
        for (int size = 3; size < 3 + OneDnnConv.MAX_PLANS + 6; size++) {
            conv.forward(Nd4j.rand(DataType.FLOAT, 1, 2, size, 3), Mode.EVAL);
        }
        assertTrue(OneDnnConv.planCount() <= OneDnnConv.MAX_PLANS, "plans: " + OneDnnConv.planCount());
        // an evicted shape is rebuilt and still right
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, 2, 3, 3);
        INDArray y = conv.forward(x, Mode.EVAL);
        conv.useOptions(options.toBuilder().oneDnnConv(false).build());
        INDArray expected = conv.forward(x, Mode.EVAL);
        assertTrue(y.sub(expected).amaxNumber().doubleValue() < 1e-5);
    }

    /**
     * Spatial FLOAT convolutions through oneDNN directly agree with ND4J's conv2d / conv2d_bp (one call per group):
     * output, input, kernel and bias gradients, including groups, strides, asymmetric SAME and VALID padding.
     */
    @ParameterizedTest(name = "in={0} out={1} k={2} s={3} {4} groups={5} size={6}x{7}")
    @CsvSource({
            "8, 12, 3, 1, SAME, 1, 9, 11",
            "8, 12, 3, 2, SAME, 2, 10, 9",
            "12, 12, 3, 1, SAME, 3, 8, 8",
            "6, 4, 3, 2, VALID, 2, 9, 10",
            "3, 16, 3, 2, SAME, 1, 16, 16",
            "4, 8, 5, 1, SAME, 1, 7, 6",
            "32, 32, 3, 1, SAME, 2, 6, 6",
    })
    void oneDnnPathEqualsNd4jOpsInFloat(int in, int out, int k, int s, Padding pad, int groups, int h, int w) {
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, in, h, w);
        INDArray[][] results = new INDArray[2][];
        for (int m = 0; m < 2; m++) {
            boolean oneDnn = m == 0;
            set(b -> b.oneDnnConv(oneDnn));
            Nd4j.getRandom().setSeed(91);
            Conv2d conv = conv("sp", in, out, k, s, pad, groups, true);
            conv.bias().value().assign(Nd4j.randn(DataType.FLOAT, out));
            INDArray y = conv.forward(x, Mode.TRAIN);
            INDArray dx = conv.backward(y.mul(0.5).addi(1));
            // a second step accumulates: the kernel gradient is added, not overwritten
            conv.backward(conv.forward(x, Mode.TRAIN).mul(0.5).addi(1));
            results[m] = new INDArray[] {y, dx, conv.weight().grad().dup(), conv.bias().grad().dup()};
        }
        String[] names = {"output", "input gradient", "kernel gradient", "bias gradient"};
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(results[1][i].shape(), results[0][i].shape(), names[i]);
            double d = results[0][i].sub(results[1][i]).amaxNumber().doubleValue() / results[1][i].amaxNumber().doubleValue();
            assertTrue(d < 1e-5, names[i] + " differs by " + d);
        }
    }

    /** Pointwise GEMMs per example (planes above the batched size) and over the whole batch, in double. */
    @ParameterizedTest(name = "batched={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void pointwiseGemmGradientsMatchFiniteDifferencesBothWays(boolean batched) {
        set(b -> b.pointwiseBatchedMaxPlane(batched ? NFNetsOptions.builtIn().pointwiseBatchedMaxPlane() : 0));
        Conv2d conv = conv("conv", 5, 3, 1, 1, Padding.SAME, 1, true);
        conv.castParameters(DataType.DOUBLE);
        conv.bias().value().assign(Nd4j.randn(DataType.DOUBLE, 3));
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 5, 4, 3);
        GradientCheck.Result r = GradientCheck.of(conv).check(x);
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }


    @ParameterizedTest(name = "in={0} out={1} k={2} s={3} {4} groups={5} size={6}x{7}")
    @CsvSource({
            "3, 4, 3, 1, SAME, 1, 6, 6",
            "3, 4, 3, 2, SAME, 1, 6, 6",      // asymmetric SAME (0,1)
            "3, 4, 3, 2, SAME, 1, 7, 5",      // odd sizes: (1,1)
            "4, 6, 3, 1, SAME, 2, 5, 5",      // grouped
            "4, 6, 3, 2, SAME, 2, 7, 6",      // grouped + strided, odd/even
            "6, 6, 1, 1, SAME, 3, 4, 4",      // grouped 1x1
            "5, 3, 1, 1, SAME, 1, 4, 3",      // pointwise: the GEMM path
            "5, 3, 1, 1, VALID, 1, 3, 4",
            "3, 2, 3, 1, VALID, 1, 6, 5",
            "2, 4, 3, 2, VALID, 2, 7, 7",
    })
    void gradientsMatchFiniteDifferences(int in, int out, int k, int s, Padding pad, int groups, int h, int w) {
        Conv2d conv = conv("conv", in, out, k, s, pad, groups, true);
        conv.castParameters(DataType.DOUBLE);
        conv.bias().value().assign(Nd4j.randn(DataType.DOUBLE, out));
        INDArray x = Nd4j.randn(DataType.DOUBLE, 2, in, h, w);
        GradientCheck.Result r = GradientCheck.of(conv).check(x);
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    @ParameterizedTest(name = "k={0} s={1} groups={2} size={3}")
    @CsvSource({"3, 2, 1, 8", "3, 2, 2, 7", "3, 1, 2, 5", "1, 1, 1, 4"})
    void forwardMatchesNaiveLoopsInFloat(int k, int s, int groups, int size) {
        Conv2d conv = conv("conv", 4, 6, k, s, Padding.SAME, groups, true);
        conv.bias().value().assign(Nd4j.randn(DataType.FLOAT, 6));
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 4, size, size);
        INDArray y = conv.forward(x, Mode.EVAL);
        INDArray expected = Reference.conv(x.castTo(DataType.DOUBLE), conv.weight().value().castTo(DataType.DOUBLE),
                conv.bias().value().castTo(DataType.DOUBLE), s, Padding.SAME, groups);
        assertArrayEquals(expected.shape(), y.shape());
        double maxDiff = expected.sub(y.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(maxDiff < 1e-5, "max abs diff " + maxDiff);
    }

    @Test
    void wrongChannelCountNamesLayerAndShapes() {
        Conv2d conv = conv("stem_conv0", 3, 16, 3, 2, Padding.SAME, 1, true);
        INDArray nhwc = Nd4j.zeros(DataType.FLOAT, 2, 32, 32, 3);
        Shapes.ShapeException e = assertThrows(Shapes.ShapeException.class, () -> conv.forward(nhwc, Mode.EVAL));
        assertTrue(e.getMessage().contains("stem_conv0"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 32, 32, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("[?, 3, ?, ?]"), e.getMessage());
        assertTrue(e.getMessage().contains("NHWC"), e.getMessage());
    }

    @Test
    void badGroupsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Conv2d("c", 6, 4, 3, 1, Padding.SAME, 4, true));
    }

    @Test
    void backwardWithoutTrainingForwardFails() {
        Conv2d conv = conv("c", 2, 2, 3, 1, Padding.SAME, 1, false);
        conv.forward(Nd4j.zeros(DataType.FLOAT, 1, 2, 4, 4), Mode.EVAL);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> conv.backward(Nd4j.zeros(DataType.FLOAT, 1, 2, 4, 4)));
        assertTrue(e.getMessage().contains("'c'"));
    }

    @Test
    void shapeInferenceAndMacs() {
        Conv2d conv = conv("c", 128, 256, 3, 2, Padding.SAME, 2, true);
        assertArrayEquals(new long[] {-1, 256, 24, 24}, conv.outputShape(new long[] {-1, 128, 47, 47}));
        assertEquals(256L * 24 * 24 * 64 * 9, conv.macs(47, 47));
    }

    /**
     * Grouped convolutions run one native call per group on views of the input, kernel, output and gradients
     * (no copies); in float (the oneDNN path) they must equal separate convolutions on copied slices.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void groupedConvolutionOnViewsEqualsSeparateConvolutionsInFloat(int stride) {
        int groups = 3;
        Conv2d conv = conv("conv", 12, 18, 3, stride, Padding.SAME, groups, true);
        conv.bias().value().assign(Nd4j.randn(DataType.FLOAT, 18));
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 12, 9, 9);
        INDArray y = conv.forward(x, Mode.TRAIN);
        INDArray g = Nd4j.randn(DataType.FLOAT, y.shape());
        INDArray dx = conv.backward(g);
        for (int k = 0; k < groups; k++) {
            Conv2d part = conv("part", 4, 6, 3, stride, Padding.SAME, 1, true);
            org.nd4j.linalg.indexing.INDArrayIndex cols = org.nd4j.linalg.indexing.NDArrayIndex.interval(6 * k, 6 * k + 6);
            org.nd4j.linalg.indexing.INDArrayIndex all = org.nd4j.linalg.indexing.NDArrayIndex.all();
            part.weight().value().assign(conv.weight().value().get(all, all, all, cols));
            part.bias().value().assign(conv.bias().value().get(cols));
            INDArray xk = x.get(all, org.nd4j.linalg.indexing.NDArrayIndex.interval(4 * k, 4 * k + 4), all, all).dup();
            INDArray yk = part.forward(xk, Mode.TRAIN);
            INDArray dxk = part.backward(g.get(all, cols, all, all).dup());
            assertEquals(0.0, yk.sub(y.get(all, cols, all, all)).amaxNumber().doubleValue(), 1e-5, "output of group " + k);
            assertEquals(0.0, dxk.sub(dx.get(all, org.nd4j.linalg.indexing.NDArrayIndex.interval(4 * k, 4 * k + 4), all, all))
                    .amaxNumber().doubleValue(), 1e-5, "input gradient of group " + k);
            assertEquals(0.0, part.weight().grad().sub(conv.weight().grad().get(all, all, all, cols)).amaxNumber().doubleValue(),
                    1e-4, "kernel gradient of group " + k);
            assertEquals(0.0, part.bias().grad().sub(conv.bias().grad().get(cols)).amaxNumber().doubleValue(), 1e-4,
                    "bias gradient of group " + k);
        }
    }

    /**
     * Pointwise convolutions run as GEMMs (per example, or over the whole batch for small planes) when ND4J's
     * platform helpers are on; with them off the convolution op runs. All must agree in float (forward, input,
     * kernel and bias gradients).
     */
    @ParameterizedTest(name = "batched={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void pointwiseGemmEqualsTheConvolutionOp(boolean batched) {
        set(b -> b.pointwiseBatchedMaxPlane(batched ? NFNetsOptions.builtIn().pointwiseBatchedMaxPlane() : 0));
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 10, 7, 5);
        INDArray[][] results = new INDArray[2][];
        org.nd4j.linalg.factory.Environment env = Nd4j.getEnvironment();
        boolean before = env.helpersAllowed();
        try {
            for (int k = 0; k < 2; k++) {
                env.allowHelpers(k == 0);
                Nd4j.getRandom().setSeed(77);
                Conv2d conv = conv("pw", 10, 12, 1, 1, Padding.SAME, 1, true);
                conv.bias().value().assign(Nd4j.randn(DataType.FLOAT, 12));
                INDArray y = conv.forward(x, Mode.TRAIN);
                INDArray dx = conv.backward(y.mul(0.5).addi(1));
                results[k] = new INDArray[] {y, dx, conv.weight().grad().dup(), conv.bias().grad().dup()};
            }
        } finally {
            env.allowHelpers(before);
        }
        String[] names = {"output", "input gradient", "kernel gradient", "bias gradient"};
        for (int i = 0; i < 4; i++) {
            double d = results[0][i].sub(results[1][i]).amaxNumber().doubleValue() / results[1][i].amaxNumber().doubleValue();
            assertTrue(d < 1e-5, names[i] + " differs by " + d);
        }
    }
}
