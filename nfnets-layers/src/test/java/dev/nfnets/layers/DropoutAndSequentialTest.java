package dev.nfnets.layers;

import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutAndSequentialTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(5331);
    }

    @Test
    void dropoutKeepsExpectationAndIsIdentityInEval() {
        Dropout d = new Dropout("drop", 0.3);
        d.reseed(7);
        INDArray x = Nd4j.ones(DataType.FLOAT, 200, 100);
        INDArray y = d.forward(x, Mode.TRAIN);
        double zeros = y.eq(0).castTo(DataType.FLOAT).meanNumber().doubleValue();
        assertEquals(0.3, zeros, 0.01);
        assertEquals(1.0, y.meanNumber().doubleValue(), 0.02);
        assertEquals(x, d.forward(x, Mode.EVAL));
    }

    @Test
    void aShardOfTheBatchDrawsTheWholeBatchsMasksForItsExamples() {
        Dropout d = new Dropout("drop", 0.5);
        INDArray x = Nd4j.ones(DataType.FLOAT, 6, 10);
        d.reseed(9);
        INDArray whole = d.forward(x, Mode.TRAIN);
        d.reseed(9, 2);
        INDArray shard = d.forward(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)).dup(), Mode.TRAIN);
        assertEquals(whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)), shard);
        d.reseed(10);
        assertTrue(!whole.equals(d.forward(x, Mode.TRAIN)), "another seed, other masks");
    }

    @Test
    void dropoutIsReproducibleFromSeed() {
        Dropout d = new Dropout("drop", 0.5);
        INDArray x = Nd4j.ones(DataType.FLOAT, 4, 16);
        d.reseed(3);
        INDArray a = d.forward(x, Mode.TRAIN);
        d.reseed(3);
        assertEquals(a, d.forward(x, Mode.TRAIN));
    }

    @Test
    void dropoutGradients() {
        Dropout d = new Dropout("drop", 0.4);
        GradientCheck.Result r = GradientCheck.of(d).beforeForward(() -> d.reseed(11)).check(Nd4j.randn(DataType.DOUBLE, 3, 8));
        assertTrue(r.maxRelError() < 1e-8, "bound 1e-8: " + r);
    }

    @Test
    void badRateRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Dropout("d", 1.0));
    }

    @Test
    void sequentialChainsAndNamesParametersAsATree() {
        Sequential net = new Sequential("net",
                new Conv2d("conv", 2, 3, 3, 2, Padding.SAME, 1, true),
                new ActivationLayer("act", Activation.GELU, 1.7015043497085571),
                new GlobalAvgPool("pool"),
                new Linear("fc", 3, 4));
        assertEquals(List.of("conv.weight", "conv.bias", "fc.weight", "fc.bias"), List.copyOf(net.namedParameters().keySet()));
        assertEquals(2 * 3 * 3 * 3 + 3 + 3 * 4 + 4, net.parameterCount());
        net.castParameters(DataType.DOUBLE);
        GradientCheck.Result r = GradientCheck.of(net).check(Nd4j.randn(DataType.DOUBLE, 2, 2, 5, 6));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
        assertEquals(4, net.outputShape(new long[] {-1, 2, 5, 6})[1]);
    }
}
