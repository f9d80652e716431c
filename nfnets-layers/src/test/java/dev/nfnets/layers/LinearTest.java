package dev.nfnets.layers;

import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(8346);
    }

    @Test
    void gradients() {
        Linear fc = new Linear("fc", 7, 5);
        fc.castParameters(DataType.DOUBLE);
        fc.bias().value().assign(Nd4j.randn(DataType.DOUBLE, 5));
        GradientCheck.Result r = GradientCheck.of(fc).check(Nd4j.randn(DataType.DOUBLE, 4, 7));
        assertTrue(r.maxRelError() < 1e-7, "bound 1e-7: " + r);
    }

    @Test
    void computesXWPlusB() {
        Linear fc = new Linear("fc", 2, 1);
        fc.weight().value().assign(Nd4j.createFromArray(new float[][] {{2f}, {3f}}));
        fc.bias().value().assign(0.5);
        INDArray y = fc.forward(Nd4j.createFromArray(new float[][] {{1f, 1f}}), Mode.EVAL);
        assertEquals(5.5, y.getDouble(0), 1e-6);
    }

    @Test
    void wrongWidthIsNamed() {
        Linear fc = new Linear("head", 8, 3);
        Exception e = assertThrows(IllegalArgumentException.class, () -> fc.forward(Nd4j.zeros(DataType.FLOAT, 2, 9), Mode.EVAL));
        assertTrue(e.getMessage().contains("head") && e.getMessage().contains("[2, 9]") && e.getMessage().contains("[?, 8]"),
                e.getMessage());
    }
}
