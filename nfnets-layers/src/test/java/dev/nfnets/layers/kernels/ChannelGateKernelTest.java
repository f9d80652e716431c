package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The channel-gate kernels: the reference against central differences in double precision of
 * {@code L = sum(x * gate * R) + sum(mean_hw(x) * Q)}, whose gradients are {@code gateGradient(x, R, 1)} and
 * {@code inputGradient(R, gate, Q)}; the float implementation against the reference on FLOAT data.
 */
class ChannelGateKernelTest {
    private static final NFNetsOptions FAST = NFNetsOptions.builder().build();
    private static final NFNetsOptions REFERENCE = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();

    private static double loss(INDArray x, INDArray gate, INDArray r, INDArray q) {
        INDArray y = ChannelGates.REFERENCE.forward(x, gate, null, REFERENCE);
        return y.mul(r).sumNumber().doubleValue() + x.mean(2, 3).mul(q).sumNumber().doubleValue();
    }

    @Test
    void referenceMatchesFiniteDifferences() {
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 3, 4, 5);
        INDArray gate = Nd4j.randn(DataType.DOUBLE, 2, 3, 1, 1);
        INDArray r = Nd4j.randn(DataType.DOUBLE, 2, 3, 4, 5);
        INDArray q = Nd4j.randn(DataType.DOUBLE, 2, 3);
        assertSame(ChannelGates.REFERENCE, ChannelGates.choose(x, gate, FAST), "DOUBLE arrays take the reference");
        INDArray dx = ChannelGates.REFERENCE.inputGradient(r, gate, q, REFERENCE);
        INDArray dGate = ChannelGates.REFERENCE.gateGradient(x, r, 1.0, REFERENCE).reshape(2, 3, 1, 1);
        double worst = 0;
        for (INDArray[] p : new INDArray[][] {{x, dx}, {gate, dGate}}) {
            INDArray flat = p[0].reshape(p[0].length());
            INDArray grad = p[1].reshape(p[1].length());
            for (long i = 0; i < flat.length(); i++) {
                double v = flat.getDouble(i);
                flat.putScalar(i, v + 1e-6);
                double up = loss(x, gate, r, q);
                flat.putScalar(i, v - 1e-6);
                double down = loss(x, gate, r, q);
                flat.putScalar(i, v);
                double num = (up - down) / 2e-6;
                double d = Math.abs(num - grad.getDouble(i));
                worst = Math.max(worst, d < 1e-9 ? 0 : d / Math.max(Math.abs(num), Math.abs(grad.getDouble(i))));
            }
        }
        assertTrue(worst < 1e-6, "largest relative error " + worst);
    }

    @Test
    void floatAgreesWithTheReference() {
        Nd4j.getRandom().setSeed(22);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 16, 12, 12);
        INDArray gate = Nd4j.rand(DataType.FLOAT, 2, 16, 1, 1).muli(2);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 2, 16, 12, 12);
        INDArray dPooled = Nd4j.randn(DataType.FLOAT, 2, 16);
        assertSame(ChannelGates.FLOAT, ChannelGates.choose(x, gate, FAST));
        assertSame(ChannelGates.REFERENCE, ChannelGates.choose(x, gate, REFERENCE));
        double[] errs = {
                rel(ChannelGates.FLOAT.gateGradient(x, dy, 2.0, FAST), ChannelGates.REFERENCE.gateGradient(x, dy, 2.0, REFERENCE)),
                rel(ChannelGates.FLOAT.inputGradient(dy, gate, dPooled, FAST),
                        ChannelGates.REFERENCE.inputGradient(dy, gate, dPooled, REFERENCE)),
                // a gradient that is a view, not a dense buffer, is copied first
                rel(ChannelGates.FLOAT.inputGradient(dy.permute(0, 1, 3, 2), gate, dPooled, FAST),
                        ChannelGates.REFERENCE.inputGradient(dy.permute(0, 1, 3, 2), gate, dPooled, REFERENCE))};
        for (double e : errs) {
            assertTrue(e < 1e-5, "float vs reference: " + java.util.Arrays.toString(errs));
        }
    }

    private static double rel(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(b.amaxNumber().doubleValue(), 1e-30);
    }
}
