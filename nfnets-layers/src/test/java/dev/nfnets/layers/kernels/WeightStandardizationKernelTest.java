package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight-standardisation implementations called directly with arrays: the ND4J and host ones against central
 * differences in double precision, the float one (FLOAT only) against the reference's double-precision
 * gradients and the host one's rounding, and the contract of the state and the gradient buffer.
 */
class WeightStandardizationKernelTest {
    private static final double EPS = 1e-4;
    private static final NFNetsOptions FAST = NFNetsOptions.builder().build();
    private static final NFNetsOptions HOST = NFNetsOptions.builder().hostMaxElements(1 << 20).build();
    private static final NFNetsOptions REFERENCE = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();

    /** A 3x3 kernel with fan-in 2 (N = 18) and 5 channels; channel 0 so small that the variance floor is active. */
    private static INDArray kernel(DataType type, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.randn(DataType.DOUBLE, 3, 3, 2, 5);
        w.slice(0, 3).muli(1e-3);
        return w.castTo(type);
    }

    private static INDArray gain(DataType type) {
        return Nd4j.createFromArray(1.0, 0.5, 1.7, -0.8, 2.0).castTo(type);
    }

    /** {@code L = sum(W_hat * R)}. */
    private static double loss(WeightStandardizationKernel k, INDArray w, INDArray gain, INDArray r, NFNetsOptions o) {
        return k.forward(w, gain, EPS, 18, false, o).standardized().mul(r).sumNumber().doubleValue();
    }

    private static double relErr(double a, double b) {
        double d = Math.abs(a - b);
        return d < 1e-9 ? 0 : d / Math.max(Math.abs(a), Math.abs(b));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nd4j", "host"})
    void doublePrecisionImplementationsMatchFiniteDifferences(String name) {
        WeightStandardizationKernel k = name.equals("nd4j") ? WeightStandardizations.REFERENCE : WeightStandardizations.HOST;
        NFNetsOptions o = name.equals("nd4j") ? REFERENCE : HOST;
        INDArray w = kernel(DataType.DOUBLE, 3);
        INDArray gain = gain(DataType.DOUBLE);
        assertSame(k, WeightStandardizations.choose(w, gain, o), "the implementation under test is the one chosen");
        INDArray r = Nd4j.randn(DataType.DOUBLE, 3, 3, 2, 5);
        WeightStandardizationKernel.Forward f = k.forward(w, gain, EPS, 18, true, o);
        INDArray dW = Nd4j.create(DataType.DOUBLE, w.shape());
        INDArray dGain = k.backward(f.state(), w, r, dW, true, o);
        double h = 1e-6;
        double worst = 0;
        for (INDArray[] p : new INDArray[][] {{w, dW}, {gain, dGain}}) {
            INDArray flat = p[0].reshape(p[0].length());
            INDArray grad = p[1].reshape(p[1].length());
            for (long i = 0; i < flat.length(); i++) {
                double v = flat.getDouble(i);
                double step = h * Math.max(1e-3, Math.abs(v));
                flat.putScalar(i, v + step);
                double up = loss(k, w, gain, r, o);
                flat.putScalar(i, v - step);
                double down = loss(k, w, gain, r, o);
                flat.putScalar(i, v);
                worst = Math.max(worst, relErr((up - down) / (2 * step), grad.getDouble(i)));
            }
        }
        assertTrue(worst < 1e-6, name + ": largest relative error " + worst);
    }

    @Test
    void floatImplementationAgreesWithTheReferenceAndTheHostRounding() {
        INDArray w = kernel(DataType.FLOAT, 5);
        INDArray gain = gain(DataType.FLOAT);
        INDArray r = Nd4j.randn(DataType.FLOAT, 3, 3, 2, 5);
        assertSame(WeightStandardizations.FLOAT, WeightStandardizations.choose(w, gain, FAST.toBuilder().hostMaxElements(0).build()));
        WeightStandardizationKernel.Forward ref = WeightStandardizations.REFERENCE.forward(
                w.castTo(DataType.DOUBLE), gain.castTo(DataType.DOUBLE), EPS, 18, true, REFERENCE);
        INDArray refDW = Nd4j.create(DataType.DOUBLE, w.shape());
        INDArray refDGain = WeightStandardizations.REFERENCE.backward(ref.state(), w.castTo(DataType.DOUBLE),
                r.castTo(DataType.DOUBLE), refDW, true, REFERENCE);
        WeightStandardizationKernel.Forward host = WeightStandardizations.HOST.forward(w, gain, EPS, 18, false, HOST);
        WeightStandardizationKernel.Forward f = WeightStandardizations.FLOAT.forward(w, gain, EPS, 18, true, FAST);
        INDArray dW = Nd4j.create(DataType.FLOAT, w.shape());
        INDArray dGain = WeightStandardizations.FLOAT.backward(f.state(), w, r, dW, true, FAST);
        assertEquals(0.0, f.standardized().sub(host.standardized()).amaxNumber().doubleValue(), 2e-7,
                "float and host forward passes round alike");
        assertTrue(rel(f.standardized(), ref.standardized()) < 1e-5, "forward " + rel(f.standardized(), ref.standardized()));
        assertTrue(rel(dW, refDW) < 1e-5, "kernel gradient " + rel(dW, refDW));
        assertTrue(rel(dGain, refDGain) < 1e-5, "gain gradient " + rel(dGain, refDGain));
        assertEquals(f.standardized(), WeightStandardizations.FLOAT.recompute(f.state(), w, gain, EPS, 18, FAST).standardized(),
                "the recomputed kernel is the forward pass's");
    }

    /** Without {@code dKernelIsZero} the kernel gradient is added; a null buffer gives only the gain's gradient. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nd4j", "host", "float"})
    void backwardAddsIntoTheGradientBuffer(String name) {
        WeightStandardizationKernel k = switch (name) {
            case "nd4j" -> WeightStandardizations.REFERENCE;
            case "host" -> WeightStandardizations.HOST;
            default -> WeightStandardizations.FLOAT;
        };
        INDArray w = kernel(DataType.FLOAT, 7);
        INDArray gain = gain(DataType.FLOAT);
        INDArray r = Nd4j.randn(DataType.FLOAT, 3, 3, 2, 5);
        WeightStandardizationKernel.Forward f = k.forward(w, gain, EPS, 18, true, FAST);
        assertSame(k, f.state().kernel());
        INDArray fresh = Nd4j.valueArrayOf(w.shape(), Float.NaN, DataType.FLOAT);
        INDArray dGain = k.backward(f.state(), w, r, fresh, true, FAST);
        INDArray acc = Nd4j.ones(DataType.FLOAT, w.shape());
        k.backward(f.state(), w, r, acc, false, FAST);
        double err = acc.sub(fresh).subi(1).amaxNumber().doubleValue() / fresh.amaxNumber().doubleValue();
        assertTrue(err < 1e-6, name + ": stale contents overwritten, old ones added to (" + err + ")");
        assertEquals(dGain, k.backward(f.state(), w, r, null, false, FAST), name + ": gain gradient without a kernel buffer");
        assertNull(k.forward(w, gain, EPS, 18, false, FAST).state(), "no state unless asked for");
    }

    @Test
    void badShapesAndForeignStatesAreNamed() {
        INDArray w = kernel(DataType.FLOAT, 9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightStandardizations.REFERENCE.forward(w, gain(DataType.FLOAT), EPS, 17, false, REFERENCE));
        assertTrue(e.getMessage().contains("fan-in 17"), e.getMessage());
        WeightStandardizationKernel.State hostState = WeightStandardizations.HOST.forward(w, gain(DataType.FLOAT), EPS, 18, true, HOST).state();
        e = assertThrows(IllegalArgumentException.class, () -> WeightStandardizations.FLOAT.backward(hostState, w, w, null, false, FAST));
        assertTrue(e.getMessage().contains("made by host"), e.getMessage());
    }

    private static double rel(INDArray a, INDArray b) {
        INDArray bd = b.castTo(DataType.DOUBLE);
        return a.castTo(DataType.DOUBLE).sub(bd).amaxNumber().doubleValue() / Math.max(bd.amaxNumber().doubleValue(), 1e-30);
    }
}
