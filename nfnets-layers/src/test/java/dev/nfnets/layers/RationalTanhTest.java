package dev.nfnets.layers;

import dev.nfnets.layers.kernels.OneDnnConv;
import dev.nfnets.layers.kernels.OneDnnEltwise;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RationalTanh} against {@code Math.tanh}, and the float GELU pass built on it against exact GELU. */
class RationalTanhTest {
    @Test
    void withinFloatRoundingOfTheExactTanh() {
        double worst = 0;
        int worstUlps = 0;
        double worstGate = 0;
        for (int i = -3_000_000; i <= 3_000_000; i++) {
            double u = i * 1e-5; // [-30, 30]
            double exact = Math.tanh(u);
            double got = RationalTanh.tanh(u);
            if (Math.abs(u) <= RationalTanh.CLAMP) {
                worst = Math.max(worst, Math.abs(got - exact));
            }
            worstUlps = Math.max(worstUlps, Math.abs(Float.floatToIntBits((float) got) - Float.floatToIntBits((float) exact)));
            double gate = RationalTanh.gate(u);
            double exactGate = 1 / (1 + Math.exp(-2 * u));
            if (u <= -RationalTanh.CLAMP) {
                assertEquals(0.0, gate, 0.0, "gate below the clamp at " + u);
            } else if (u > RationalTanh.CLAMP) {
                assertEquals(1.0f, (float) gate, 0.0f, "gate above the clamp at " + u + " (in float)");
            } else {
                worstGate = Math.max(worstGate, Math.abs(gate - exactGate));
            }
        }
        assertTrue(worst < 5e-11, "max abs error " + worst);
        assertTrue(worstGate < 3e-11, "gate: max abs error " + worstGate);
        assertTrue(worstUlps <= 1, "rounded to float: " + worstUlps + " ulps from the exact value");
        assertEquals(0.0, RationalTanh.tanh(0.0), 0.0);
        assertEquals(-RationalTanh.tanh(0.7), RationalTanh.tanh(-0.7), 0.0, "odd");
        assertEquals(1.0f, (float) RationalTanh.gate(1e6), 0.0f);
        assertEquals(0.0, RationalTanh.gate(-1e6), 0.0);
        assertEquals(0.5, RationalTanh.gate(0.0), 0.0);
    }

    /**
     * The layer's float GELU against GELU in double precision, on both float paths (the Java pass built on
     * {@link RationalTanh}, and oneDNN's JIT kernels): forward within 2 float ulps of {@code max(1, |y|)}, derivative
     * within 12 ({@code 1 - s} of the float gate is quantised near s = 1, as with ND4J's sigmoid: up to about 8
     * ulps here); on the Java path for kept and recomputed gates alike, which must agree exactly.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "oneDNN {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void floatGeluIsWithinAFewUlpsOfTheExactFunction(boolean oneDnn) {
        long calls = OneDnnEltwise.calls();
        floatGeluWithinAFewUlps(oneDnn);
        assertEquals(oneDnn, OneDnnEltwise.calls() > calls, "the oneDNN path ran (natives loaded) exactly when enabled");
    }

    private static void floatGeluWithinAFewUlps(boolean oneDnn) {
        INDArray x = Nd4j.linspace(-12, 12, 480_001, DataType.FLOAT);
        INDArray ones = Nd4j.ones(DataType.FLOAT, x.length());
        INDArray xd = x.castTo(DataType.DOUBLE);
        double[] yExact = Activation.GELU.apply(xd).toDoubleVector();
        double[] dExact = Activation.GELU.derivative(xd).toDoubleVector();
        INDArray first = null;
        for (boolean keep : oneDnn ? new boolean[] {false} : new boolean[] {true, false}) {
            ActivationLayer layer = new ActivationLayer("gelu", Activation.GELU).keepGate(keep);
            layer.useOptions(NFNetsOptions.builder().oneDnnEltwise(oneDnn).build());
            float[] y = layer.forward(x, Mode.TRAIN).toFloatVector();
            INDArray dx = layer.backward(ones);
            float[] d = dx.toFloatVector();
            float ulp1 = Math.ulp(1f);
            for (int i = 0; i < y.length; i++) {
                double ey = Math.abs(y[i] - yExact[i]) / (ulp1 * Math.max(1, Math.abs(yExact[i])));
                double ed = Math.abs(d[i] - dExact[i]) / (ulp1 * Math.max(1, Math.abs(dExact[i])));
                assertTrue(ey <= 2, "forward at x=" + x.getFloat(i) + ": " + ey + " ulps");
                assertTrue(ed <= 12, "derivative at x=" + x.getFloat(i) + ": " + ed + " ulps (keep gate " + keep + ")");
            }
            if (first == null) {
                first = dx.dup();
            } else {
                assertEquals(0.0, first.sub(dx).amaxNumber().doubleValue(), 0.0, "kept and recomputed gates agree exactly");
            }
        }
    }
}
