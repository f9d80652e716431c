package dev.nfnets.layers;

import dev.nfnets.layers.kernels.OneDnnConv;
import dev.nfnets.layers.kernels.OneDnnEltwise;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(4607);
    }


    @ParameterizedTest
    @EnumSource(Activation.class)
    void gradientMatchesFiniteDifferences(Activation fn) {
        ActivationLayer layer = new ActivationLayer("act", fn, 1.7);
        // keep away from kinks (0 for relu-likes, 6 for relu6) where the derivative is undefined
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4, 5).muli(3.5).addi(0.1);
        INDArray sign = Nd4j.rand(DataType.DOUBLE, 3, 4, 5).gt(0.5).castTo(DataType.DOUBLE).muli(2).subi(1);
        x.muli(sign);
        GradientCheck.Result r = GradientCheck.of(layer).check(x);
        assertTrue(r.maxRelError() < 1e-7, fn + " bound 1e-7: " + r);
    }

    /** An activation that leaves its gain to the next layer computes f(x), and its backward pass f'(x) dy. */
    @Test
    void aGainLeftToTheNextLayerIsNotApplied() {
        INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 3, 4, 5);
        INDArray dy = Nd4j.randn(DataType.DOUBLE, 2, 3, 4, 5);
        ActivationLayer withGain = new ActivationLayer("act", Activation.GELU, 1.7);
        ActivationLayer left = new ActivationLayer("act", Activation.GELU, 1.7).leaveGainToNext(true);
        assertEquals(1.0, left.appliedGain());
        assertEquals(1.7, left.gain(), "the gain stays, for the owner to apply");
        INDArray y = withGain.forward(x, Mode.TRAIN);
        INDArray yLeft = left.forward(x, Mode.TRAIN);
        assertTrue(yLeft.mul(1.7).equalsWithEps(y, 1e-12), "f(x) without the gain");
        // d/d(f(x)) of a loss is 1.7 times its d/d(1.7 f(x)): both give the same input gradient
        assertTrue(left.backward(dy.mul(1.7)).equalsWithEps(withGain.backward(dy), 1e-12), "input gradient");
        left.leaveGainToNext(false);
        assertTrue(left.forward(x, Mode.EVAL).equalsWithEps(y, 0), "the gain applied again");
        GradientCheck.Result r = GradientCheck.of(new ActivationLayer("act", Activation.GELU, 1.7).leaveGainToNext(true)).check(x);
        assertTrue(r.maxRelError() < 1e-7, "bound 1e-7: " + r);
    }

    /** The training path keeps GELU's gate from the forward pass; it must give the recomputed derivative. */
    @org.junit.jupiter.params.ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void geluDerivativeFromTheGateEqualsTheRecomputedOne(DataType type) {
        INDArray x = Nd4j.linspace(-12, 12, 481, DataType.DOUBLE).castTo(type);
        INDArray[] yg = Activation.GELU.applyWithGate(x);
        assertEquals(0.0, yg[0].sub(Activation.GELU.apply(x)).amaxNumber().doubleValue(), 0.0);
        INDArray fromGate = Activation.GELU.derivative(x, yg[1]);
        INDArray recomputed = Activation.GELU.derivative(x);
        // float: 1 - s is exact to float rounding of s (6e-8), which the term x s (1-s) u' amplifies to ~2e-6
        // absolute near |x| = 4 on a derivative of about 1; double: rounding only
        double bound = type == DataType.FLOAT ? 4e-6 : 1e-13;
        assertTrue(fromGate.sub(recomputed).amaxNumber().doubleValue() < bound,
                "max diff " + fromGate.sub(recomputed).amaxNumber() + " at " + type);
        // the gate is left as it was (the layer may be asked for its backward pass once only, but keep it intact)
        assertEquals(0.0, yg[1].sub(Activation.GELU.applyWithGate(x)[1]).amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void hostArraysRoundTripAndZero() {
        for (DataType t : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray a = Nd4j.randn(t, 3, 4);
            assertTrue(HostArrays.eligible(NFNetsOptions.builtIn(), a));
            assertTrue(!HostArrays.eligible(NFNetsOptions.builtIn(), a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3))), "a view");
            double[] v = HostArrays.read(a);
            assertEquals(a.getDouble(2, 3), v[11], 0.0);
            v[5] = 42;
            HostArrays.write(a, v);
            assertEquals(42.0, a.getDouble(1, 1), 0.0);
            HostArrays.zero(a);
            assertEquals(0.0, a.amaxNumber().doubleValue(), 0.0);
        }
        assertThrows(IllegalArgumentException.class, () -> HostArrays.write(Nd4j.zeros(DataType.FLOAT, 3), new double[2]));
    }

    @Test
    void geluIsTheTanhApproximation() {
        double x = 1.3;
        double expected = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        double got = Activation.GELU.apply(Nd4j.scalar(x)).getDouble(0);
        assertEquals(expected, got, 1e-15);
        // and differs from the erf form by a visible amount (~1e-4 range)
        double erf = Activation.GELU_ERF.apply(Nd4j.scalar(x)).getDouble(0);
        assertTrue(Math.abs(erf - got) > 1e-5 && Math.abs(erf - got) < 1e-3, "erf " + erf + " tanh " + got);
    }

    @Test
    void valuesAtKnownPoints() {
        INDArray x = Nd4j.createFromArray(-2.0, -0.5, 0.5, 7.0);
        assertEquals(0.0, Activation.RELU.apply(x).getDouble(0));
        assertEquals(6.0, Activation.RELU6.apply(x).getDouble(3));
        assertEquals(-0.02, Activation.LEAKY_RELU.apply(x).getDouble(0), 1e-15);
        assertEquals(0.5 / (1 + Math.exp(-0.5)), Activation.SILU.apply(x).getDouble(2), 1e-12);
        assertEquals(Math.exp(-2.0) - 1, Activation.ELU.apply(x).getDouble(0), 1e-12);
        assertEquals(1.0507009873554805 * 1.6732632423543772 * (Math.exp(-0.5) - 1), Activation.SELU.apply(x).getDouble(1), 1e-12);
        assertEquals(Math.log1p(Math.exp(7.0)), Activation.SOFTPLUS.apply(x).getDouble(3), 1e-12);
        assertEquals(-Math.log1p(Math.exp(2.0)), Activation.LOG_SIGMOID.apply(x).getDouble(0), 1e-12);
        assertEquals(-2.0 / 3, Activation.SOFT_SIGN.apply(x).getDouble(0), 1e-12);
    }

    @Test
    void gainScalesOutput() {
        ActivationLayer layer = new ActivationLayer("act", Activation.RELU, 1.7139588594436646);
        assertEquals(1.7139588594436646 * 2, layer.forward(Nd4j.scalar(2.0).reshape(1, 1), Mode.EVAL).getDouble(0), 1e-12);
    }

    @Test
    void lookupByReferenceName() {
        assertEquals(Activation.SILU, Activation.byName("swish"));
        assertEquals(Activation.GELU, Activation.byName("gelu"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.byName("mish"));
        assertTrue(e.getMessage().contains("mish"));
    }

    @Test
    void oneDnnEltwiseNativesLoad() {
        assertTrue(OneDnnEltwise.available(), "org.bytedeco:dnnl natives missing: GELU would fall back to the Java pass");
    }

    /**
     * FLOAT GELU through oneDNN's JIT kernels against the Java pass: output and input gradient, with and without a
     * gain, for sizes on both sides of the oneDNN threshold, and for an output gradient that is a view (copied
     * before the native call).
     */
    @ParameterizedTest(name = "gain {0}")
    @org.junit.jupiter.params.provider.ValueSource(doubles = {1.0, 1.7015043497085571})
    void oneDnnGeluAgreesWithTheJavaPass(double gain) {
        for (long[] shape : new long[][] {{2, 8, 40, 40}, {3, 5, 7}, {8, 48, 12, 12}}) {
            INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(3);
            // the output gradient as a permuted view (not c-order): the oneDNN path copies it first
            long[] reversed = new long[shape.length];
            int[] back = new int[shape.length];
            for (int d = 0; d < shape.length; d++) {
                reversed[d] = shape[shape.length - 1 - d];
                back[d] = shape.length - 1 - d;
            }
            INDArray g = Nd4j.randn(DataType.FLOAT, reversed).permute(back);
            assertTrue(!Shapes.wholeInCOrder(g));
            INDArray[] results = new INDArray[4];
            for (boolean oneDnn : new boolean[] {true, false}) {
                ActivationLayer layer = new ActivationLayer("gelu", Activation.GELU, gain).keepGate(false);
                layer.useOptions(NFNetsOptions.builder().oneDnnEltwise(oneDnn).build());
                results[oneDnn ? 0 : 2] = layer.forward(x, Mode.TRAIN);
                results[oneDnn ? 1 : 3] = layer.backward(g);
            }
            double yScale = results[2].amaxNumber().doubleValue();
            double dScale = results[3].amaxNumber().doubleValue();
            double dy = results[0].sub(results[2]).amaxNumber().doubleValue();
            double dd = results[1].sub(results[3]).amaxNumber().doubleValue();
            String what = java.util.Arrays.toString(shape) + " gain " + gain;
            assertTrue(dy <= 4e-7 * yScale, what + ": outputs differ by " + dy + " (scale " + yScale + ")");
            assertTrue(dd <= 2e-6 * dScale, what + ": gradients differ by " + dd + " (scale " + dScale + ")");
        }
    }

    /** GELU activations of many sizes do not grow oneDNN's cache of eltwise primitives without bound. */
    @Test
    void oneDnnEltwisePlanCacheIsBounded() {
        ActivationLayer layer = new ActivationLayer("gelu", Activation.GELU, 1.5);
        for (int i = 0; i < OneDnnEltwise.MAX_PLANS + 6; i++) {
            layer.forward(Nd4j.rand(DataType.FLOAT, NFNetsOptions.builtIn().oneDnnEltwiseMin() + i), Mode.EVAL);
        }
        assertTrue(OneDnnEltwise.planCount() <= OneDnnEltwise.MAX_PLANS, "plans: " + OneDnnEltwise.planCount());
    }
}
