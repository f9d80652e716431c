package dev.nfnets.core;

import dev.nfnets.layers.Mode;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WSConv2dTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        Nd4j.getRandom().setSeed(4321);
    }

    private static WSConv2d randomLayer(int in, int out, int k, int s, int groups) {
        WSConv2d c = new WSConv2d("ws", in, out, k, s, groups);
        c.castParameters(DataType.DOUBLE);
        c.gain().value().assign(Nd4j.rand(DataType.DOUBLE, out).addi(0.5));
        c.bias().value().assign(Nd4j.randn(DataType.DOUBLE, out).muli(0.1));
        return c;
    }

    @ParameterizedTest(name = "in={0} out={1} k={2} s={3} groups={4} size={5}")
    @CsvSource({"3, 4, 3, 1, 1, 5", "4, 6, 3, 2, 2, 6", "4, 4, 3, 2, 2, 7", "5, 3, 1, 1, 1, 4"})
    void gradientsReachRawWeightsAndGain(int in, int out, int k, int s, int groups, int size) {
        WSConv2d c = randomLayer(in, out, k, s, groups);
        GradientCheck.Result r = GradientCheck.of(c).check(Nd4j.randn(DataType.DOUBLE, 2, in, size, size));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    @Test
    void gradientWhenTheVarianceFloorIsActive() {
        WSConv2d c = randomLayer(2, 3, 1, 1, 1);
        // N = 2: channel 0 has N*var = 2*(1e-3)^2 < 1e-4, so the floor applies and var gets no gradient
        c.weight().value().assign(Nd4j.createFromArray(new double[] {0.0, 0.3, 1.0, 0.002, -0.1, 2.0}).reshape(1, 1, 2, 3));
        GradientCheck.Result r = GradientCheck.of(c).step(1e-6).minAbsError(1e-8).check(Nd4j.randn(DataType.DOUBLE, 2, 2, 3, 3));
        assertTrue(r.maxRelError() < 1e-5, "bound 1e-5: " + r);
    }

    @Test
    void standardisedKernelHasZeroMeanAndSquaredNormGainSquared() {
        WSConv2d c = randomLayer(8, 5, 3, 1, 1);
        INDArray hat = c.standardizedKernel().reshape(3 * 3 * 8, 5);
        for (int o = 0; o < 5; o++) {
            INDArray col = hat.getColumn(o);
            double g = c.gain().value().getDouble(o);
            assertEquals(0.0, col.meanNumber().doubleValue(), 1e-12);
            assertEquals(g * g, col.mul(col).sumNumber().doubleValue(), 1e-10);
        }
    }

    @Test
    void outputIndependentOfWeightScale() {
        WSConv2d c = randomLayer(3, 4, 3, 1, 1);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 1, 3, 5, 5);
        INDArray y1 = c.forward(x, Mode.EVAL);
        c.weight().value().muli(7.5).addi(3);
        INDArray y2 = c.forward(x, Mode.EVAL);
        assertTrue(y1.equalsWithEps(y2, 1e-10));
    }

    @ParameterizedTest(name = "in={0} out={1} k={2} s={3} groups={4}")
    @CsvSource({"3, 4, 3, 1, 1", "4, 6, 3, 2, 2", "5, 3, 1, 1, 1"})
    void gradientsWithAnInputGainFoldedIntoTheKernel(int in, int out, int k, int s, int groups) {
        WSConv2d c = randomLayer(in, out, k, s, groups).inputGain(1.7015043497085571);
        GradientCheck.Result r = GradientCheck.of(c).check(Nd4j.randn(DataType.DOUBLE, 2, in, 6, 6));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    @Test
    void anInputGainConvolvesTheScaledInput() {
        double gamma = 1.7015043497085571;
        WSConv2d c = randomLayer(4, 6, 3, 1, 2);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 4, 5, 5);
        INDArray gy = Nd4j.randn(DataType.DOUBLE, 2, 6, 5, 5);
        INDArray[] plain = step(c, x.mul(gamma), gy, false);
        c.inputGain(gamma);
        INDArray[] folded = step(c, x, gy, false);
        // conv(gamma * x, W_hat) = conv(x, gamma * W_hat): dx picks up gamma, the parameters' gradients do not change
        assertTrue(folded[0].equalsWithEps(plain[0].mul(gamma), 1e-12), "dx");
        String[] names = {"dx", "dW", "dgain", "dbias"};
        for (int i = 1; i < names.length; i++) {
            assertTrue(folded[i].equalsWithEps(plain[i], 1e-12), names[i] + ": " + folded[i] + " vs " + plain[i]);
        }
        try (StepScope ignored = StepScope.open("ws-test")) {
            assertTrue(c.forward(x, Mode.EVAL).equalsWithEps(randomCopy(c).forward(x.mul(gamma), Mode.EVAL), 1e-12), "output");
        }
        assertTrue(c.standardizedKernel().equalsWithEps(randomCopy(c).standardizedKernel(), 0), "without the input gain");
        assertThrows(IllegalArgumentException.class, () -> c.inputGain(0));
        assertThrows(IllegalArgumentException.class, () -> c.inputGain(Double.NaN));
    }

    /** A layer with {@code c}'s parameters and no input gain. */
    private static WSConv2d randomCopy(WSConv2d c) {
        WSConv2d d = new WSConv2d("copy", c.inChannels(), c.outChannels(), c.kernelSize(),
                c.stride(), c.groups());
        d.castParameters(DataType.DOUBLE);
        d.weight().value().assign(c.weight().value());
        d.gain().value().assign(c.gain().value());
        d.bias().value().assign(c.bias().value());
        return d;
    }

    /** dx, dW, dgain and dbias of one training step of {@code c} on {@code x} with output gradient {@code gy}. */
    private static INDArray[] step(WSConv2d c, INDArray x, INDArray gy, boolean readGradBetween) {
        for (dev.nfnets.layers.Parameter p : c.ownParameters()) {
            p.zeroGrad();
        }
        try (StepScope ignored = StepScope.open("ws-test")) {
            c.forward(x, Mode.TRAIN);
            if (readGradBetween) {
                c.weight().grad(); // ends the loan of the stale gradient buffer: the backward pass must recompute
            }
            INDArray dx = StepScope.detach(c.backward(gy));
            // copies outside the scope: the gradient buffers are reused by the next step
            return StepScope.outside(() -> new INDArray[] {dx, c.weight().grad().dup(), c.gain().grad().dup(),
                    c.bias().grad().dup()});
        }
    }

    @Test
    void theStandardisedKernelKeptInTheGradientBufferGivesTheSameBits() {
        // large enough for the float passes (over 65536 kernel elements), whose state outlives the step's child scopes
        WSConv2d c = new WSConv2d("ws", 128, 64, 3, 1, 1);
        c.gain().value().assign(Nd4j.rand(DataType.FLOAT, 64).addi(0.5));
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 128, 6, 6);
        INDArray gy = Nd4j.randn(DataType.FLOAT, 2, 64, 6, 6);
        dev.nfnets.layers.NFNetsOptions defaults = dev.nfnets.layers.NFNetsOptions.defaults();
        assertTrue(defaults.wsRecompute(), "the default keeps no standardised kernel in step memory");

        c.weight().zeroGrad();
        try (StepScope ignored = StepScope.open("ws-test")) {
            c.forward(x, Mode.TRAIN);
            dev.nfnets.layers.Parameter.StaleGradLoan buffer = c.weight().lendStaleGrad();
            assertTrue(buffer != null && c.weight().gradIsZero(), "the gradient still stands for zeros");
            assertEquals(c.standardizedKernel(), buffer.buffer(), "the forward pass kept the standardised kernel there");
            c.clearCache();
        }
        INDArray[] parked = step(c, x, gy, false);
        INDArray[] recomputed = step(c, x, gy, true);
        c.useOptions(defaults.toBuilder().wsRecompute(false).build());
        INDArray[] kept = step(c, x, gy, false);
        String[] names = {"dx", "dW", "dgain", "dbias"};
        for (int i = 0; i < names.length; i++) {
            assertEquals(kept[i], parked[i], names[i] + ": kept in step memory vs in the gradient buffer");
            assertEquals(kept[i], recomputed[i], names[i] + ": kept in step memory vs recomputed after the loan ended");
        }
        assertTrue(parked[1].amaxNumber().doubleValue() > 0);
    }
}
