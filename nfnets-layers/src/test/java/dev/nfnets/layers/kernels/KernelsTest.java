package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each kernel implementation against the reference implementation of its computation, called directly with
 * arrays, geometry and options (no layer); and the reference implementations against finite differences in
 * double precision.
 */
class KernelsTest {
    private static final NFNetsOptions FAST = NFNetsOptions.builder().pointwiseMinMacs(0).build();
    private static final NFNetsOptions REFERENCE = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();

    private static double relDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(b.amaxNumber().doubleValue(), 1e-30);
    }

    /** Output, input gradient and kernel gradient of one convolution kernel on FLOAT data. */
    private static INDArray[] convolve(ConvolutionKernel k, ConvGeometry g, INDArray x, INDArray w, INDArray b, INDArray dy,
                                       NFNetsOptions o) {
        INDArray y = Nd4j.create(DataType.FLOAT, dy.shape());
        k.forward(g, x, w, b, y, o);
        INDArray dx = Nd4j.create(DataType.FLOAT, x.shape());
        INDArray dw = Nd4j.create(DataType.FLOAT, w.shape());
        k.backward(g, x, w, dy, dx, dw, o);
        return new INDArray[] {y, dx, dw};
    }

    @ParameterizedTest(name = "in={0} out={1} k={2} s={3} groups={4} size={5} onednnPointwise={6}")
    @CsvSource({
            "8, 12, 1, 1, 1, 5, false",    // pointwise, batched GEMM (small plane)
            "8, 12, 1, 1, 1, 20, false",   // pointwise, per-example GEMMs (400 px > 256)
            "8, 12, 1, 1, 1, 5, true",     // pointwise: oneDNN
            "8, 12, 1, 1, 1, 20, true",
            "8, 12, 3, 1, 1, 9, true",     // spatial: oneDNN
            "12, 12, 3, 2, 3, 10, true",   // grouped, strided: oneDNN
            "12, 12, 3, 2, 3, 10, false",  // the pointwise switch leaves spatial convolutions on oneDNN
    })
    void everyConvolutionKernelAgreesWithTheReference(int in, int out, int k, int s, int groups, int size,
                                                      boolean onednnPointwise) {
        NFNetsOptions fastOptions = FAST.toBuilder().oneDnnPointwise(onednnPointwise).build();
        Nd4j.getRandom().setSeed(4);
        ConvGeometry g = new ConvGeometry(in, out, k, s, Padding.SAME, groups, true);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, in, size, size);
        INDArray w = Nd4j.randn(DataType.FLOAT, k, k, in / groups, out);
        INDArray b = Nd4j.randn(DataType.FLOAT, out);
        int o = (int) Padding.SAME.outputSize(size, k, s);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 3, out, o, o);
        ConvolutionKernel fast = Convolutions.choose(g, x, fastOptions);
        assertSame(k == 1 && !onednnPointwise ? Convolutions.POINTWISE_GEMM : Convolutions.ONEDNN, fast, "the fast kernel chosen");
        assertSame(Convolutions.REFERENCE, Convolutions.choose(g, x, REFERENCE));
        INDArray[] ref = convolve(Convolutions.REFERENCE, g, x, w, b, dy, REFERENCE);
        INDArray[] got = convolve(fast, g, x, w, b, dy, fastOptions);
        String[] names = {"output", "input gradient", "kernel gradient"};
        for (int i = 0; i < 3; i++) {
            assertTrue(relDiff(got[i], ref[i]) < 1e-5, fast.name() + " " + names[i] + " differs by " + relDiff(got[i], ref[i]));
        }
    }

    /** The reference convolution (ND4J ops, through the layer) against central differences in double. */
    @ParameterizedTest(name = "k={0} groups={1}")
    @CsvSource({"1, 1", "3, 2"})
    void referenceConvolutionMatchesFiniteDifferences(int k, int groups) {
        Nd4j.getRandom().setSeed(8);
        Conv2d conv = new Conv2d("conv", 4, 6, k, 1, Padding.SAME, groups, true);
        conv.useOptions(REFERENCE);
        conv.castParameters(DataType.DOUBLE);
        conv.bias().value().assign(Nd4j.randn(DataType.DOUBLE, 6));
        GradientCheck.Result r = GradientCheck.of(conv).check(Nd4j.randn(DataType.DOUBLE, 2, 4, 5, 5));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    /** Both GELU kernels against the reference ops on FLOAT data, with and without a kept gate. */
    @ParameterizedTest(name = "keep gate {0}")
    @ValueSource(booleans = {true, false})
    void everyGeluKernelAgreesWithTheReference(boolean keepGate) {
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 8, 40, 40).muli(3);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 2, 8, 40, 40);
        double gain = 1.7015043497085571;
        ActivationKernel.Forward rf = Activations.REFERENCE.forward(Activation.GELU, x, gain, keepGate, null, REFERENCE);
        INDArray rd = Activations.REFERENCE.backward(Activation.GELU, x, rf.gate(), dy, gain, REFERENCE);
        assertSame(Activations.ONEDNN_GELU, Activations.choose(Activation.GELU, x, FAST));
        assertSame(Activations.FLOAT_GELU, Activations.choose(Activation.GELU, x, FAST.toBuilder().oneDnnEltwise(false).build()));
        assertSame(Activations.REFERENCE, Activations.choose(Activation.GELU, x, REFERENCE));
        for (ActivationKernel k : new ActivationKernel[] {Activations.FLOAT_GELU, Activations.ONEDNN_GELU}) {
            ActivationKernel.Forward f = k.forward(Activation.GELU, x, gain, keepGate, null, FAST);
            INDArray d = k.backward(Activation.GELU, x, f.gate(), dy, gain, FAST);
            assertTrue(relDiff(f.y(), rf.y()) < 2e-6, k.name() + " output differs by " + relDiff(f.y(), rf.y()));
            assertTrue(relDiff(d, rd) < 4e-6, k.name() + " gradient differs by " + relDiff(d, rd));
        }
    }

    /** The reference activation against central differences in double, for every function. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Activation.class)
    void referenceActivationMatchesFiniteDifferences(Activation f) {
        Nd4j.getRandom().setSeed(2);
        ActivationLayer layer = new ActivationLayer("act", f, 1.3);
        layer.useOptions(REFERENCE);
        // away from kinks (relu at 0), where central differences are not the derivative
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, 4).muli(1.5).addi(0.1).muli(Nd4j.rand(DataType.DOUBLE, 2, 3, 4).gt(0.5)
                .castTo(DataType.DOUBLE).muli(2).subi(1));
        GradientCheck.Result r = GradientCheck.of(layer).check(x);
        assertTrue(r.maxRelError() < 1e-6, f + " bound 1e-6: " + r);
    }

    /** A layer's backward pass runs the kernel its forward pass chose, even when the options change in between. */
    @org.junit.jupiter.api.Test
    void backwardUsesTheForwardsKernel() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 8, 40, 40);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 2, 8, 40, 40);
        ActivationLayer layer = new ActivationLayer("gelu", Activation.GELU);
        layer.useOptions(FAST);
        long before = OneDnnEltwise.calls();
        layer.forward(x, Mode.TRAIN);
        layer.useOptions(REFERENCE);
        layer.backward(dy);
        assertEquals(before + 2, OneDnnEltwise.calls(), "forward and backward both through oneDNN");
    }

    /** The three SGD updates give the same weights and momentum (Nesterov, weight decay) on one array. */
    @ParameterizedTest(name = "momentum {0}")
    @ValueSource(doubles = {0.0, 0.9})
    void everySgdUpdateAgreesWithTheReference(double momentum) {
        INDArray[][] results = new INDArray[3][];
        SgdUpdateKernel[] kernels = {SgdUpdates.REFERENCE, SgdUpdates.HOST, SgdUpdates.FLOAT};
        for (int k = 0; k < 3; k++) {
            Nd4j.getRandom().setSeed(13);
            INDArray w = Nd4j.randn(DataType.FLOAT, 40, 30);
            INDArray buf = momentum == 0 ? null : Nd4j.randn(DataType.FLOAT, 40, 30);
            for (int step = 0; step < 3; step++) {
                INDArray g = Nd4j.randn(DataType.FLOAT, 40, 30);
                kernels[k].update(w, g, buf, 0.2, momentum, true, 0.01, FAST);
            }
            results[k] = new INDArray[] {w, buf};
        }
        NFNetsOptions small = NFNetsOptions.builder().hostMaxElements(1 << 20).build();
        INDArray probe = Nd4j.create(DataType.FLOAT, 40, 30);
        assertSame(SgdUpdates.HOST, SgdUpdates.choose(probe, probe, null, small));
        assertSame(SgdUpdates.FLOAT, SgdUpdates.choose(probe, probe, null, small.toBuilder().hostMaxElements(0).build()));
        assertSame(SgdUpdates.REFERENCE, SgdUpdates.choose(probe, probe, null, REFERENCE));
        for (int k = 1; k < 3; k++) {
            assertTrue(relDiff(results[k][0], results[0][0]) < 1e-6, kernels[k].name() + " weights");
            if (momentum != 0) {
                assertTrue(relDiff(results[k][1], results[0][1]) < 1e-6, kernels[k].name() + " momentum");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void everyEmaUpdateAgreesWithTheReference() {
        INDArray[] results = new INDArray[3];
        EmaUpdateKernel[] kernels = {EmaUpdateKernel.REFERENCE, EmaUpdateKernel.HOST, EmaUpdateKernel.FLOAT};
        for (int k = 0; k < 3; k++) {
            Nd4j.getRandom().setSeed(14);
            INDArray e = Nd4j.randn(DataType.FLOAT, 50, 20);
            for (int step = 0; step < 3; step++) {
                kernels[k].update(e, Nd4j.randn(DataType.FLOAT, 50, 20), 0.9);
            }
            results[k] = e;
        }
        assertSame(EmaUpdateKernel.REFERENCE, EmaUpdateKernel.choose(results[0], results[1], REFERENCE));
        for (int k = 1; k < 3; k++) {
            assertTrue(relDiff(results[k], results[0]) < 1e-6, kernels[k].name() + " differs by " + relDiff(results[k], results[0]));
        }
    }

    /** The three AGC clips give the same clipped gradient and statistics on a tensor where some units clip. */
    @org.junit.jupiter.api.Test
    void everyAgcClipAgreesWithTheReference() {
        AgcClipKernel[] kernels = {Nd4jAgcClip.INSTANCE, HostAgcClip.INSTANCE, FloatAgcClip.INSTANCE};
        INDArray[] grads = new INDArray[3];
        AgcClipKernel.Clip[] stats = new AgcClipKernel.Clip[3];
        for (int k = 0; k < 3; k++) {
            Nd4j.getRandom().setSeed(15);
            INDArray w = Nd4j.randn(DataType.FLOAT, 300, 400);      // large enough for the GEMM column norms
            INDArray g = Nd4j.randn(DataType.FLOAT, 300, 400).muli(Nd4j.rand(DataType.FLOAT, 1, 400).muli(0.1));
            stats[k] = kernels[k].clip(w, g, 300, 400, 0.01, 1e-3);
            grads[k] = g;
        }
        assertTrue(stats[0].clippedUnits() > 0 && stats[0].clippedUnits() < 400, "some units clip: " + stats[0]);
        for (int k = 1; k < 3; k++) {
            assertEquals(stats[0].clippedUnits(), stats[k].clippedUnits(), kernels[k].name());
            assertEquals(stats[0].maxRatio(), stats[k].maxRatio(), 1e-5 * stats[0].maxRatio(), kernels[k].name());
            assertTrue(relDiff(grads[k], grads[0]) < 1e-5, kernels[k].name() + " gradient differs by " + relDiff(grads[k], grads[0]));
        }
        INDArray probe = Nd4j.create(DataType.FLOAT, 300, 400);
        assertSame(Nd4jAgcClip.INSTANCE, AgcClipKernel.choose(probe, probe, REFERENCE));
        assertSame(FloatAgcClip.INSTANCE, AgcClipKernel.choose(probe, probe, FAST));
    }
}
