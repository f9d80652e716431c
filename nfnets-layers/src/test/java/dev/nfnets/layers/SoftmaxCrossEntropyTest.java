package dev.nfnets.layers;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoftmaxCrossEntropyTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(4809);
    }

    @Test
    void valueByHandWithSmoothing() {
        INDArray z = Nd4j.createFromArray(new double[][] {{1, 2, 3}});
        INDArray y = SoftmaxCrossEntropy.oneHot(new int[] {2}, 3, DataType.DOUBLE);
        double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
        double[] logp = {1 - lse, 2 - lse, 3 - lse};
        double s = 0.1;
        double expected = -((s / 3) * logp[0] + (s / 3) * logp[1] + (1 - s + s / 3) * logp[2]);
        assertEquals(expected, new SoftmaxCrossEntropy(s).compute(z, y).loss(), 1e-12);
    }

    @Test
    void gradientMatchesFiniteDifferencesWithSoftTargets() {
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0.1);
        INDArray z = Nd4j.randn(DataType.DOUBLE, 3, 5);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 3, 5);
        y.diviColumnVector(y.sum(true, 1)); // soft targets, rows sum to 1 (MixUp-like)
        INDArray g = ce.compute(z, y).gradient();
        double h = 1e-6, worst = 0;
        for (int i = 0; i < z.length(); i++) {
            INDArray zp = z.dup(), zm = z.dup();
            zp.reshape(z.length()).putScalar(i, z.reshape(z.length()).getDouble(i) + h);
            zm.reshape(z.length()).putScalar(i, z.reshape(z.length()).getDouble(i) - h);
            double num = (ce.compute(zp, y).loss() - ce.compute(zm, y).loss()) / (2 * h);
            double a = g.reshape(z.length()).getDouble(i);
            worst = Math.max(worst, Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), 1e-9));
        }
        assertTrue(worst < 1e-6, "bound 1e-6, got " + worst);
    }

    @Test
    void stableForLargeLogits() {
        INDArray z = Nd4j.createFromArray(new float[][] {{1000f, 0f}});
        double loss = new SoftmaxCrossEntropy(0).compute(z, SoftmaxCrossEntropy.oneHot(new int[] {0}, 2, DataType.FLOAT)).loss();
        assertEquals(0.0, loss, 1e-6);
    }

    @Test
    void labelOutOfRange() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.oneHot(new int[] {0, 10}, 10, DataType.FLOAT));
        assertTrue(e.getMessage().contains("10") && e.getMessage().contains("index 1"), e.getMessage());
    }
}
