package dev.nfnets.layers;

import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolingTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(8867);
    }


    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"6, 6", "5, 7", "3, 3", "1, 2"})
    void avgPoolSameDividesByValidCount(int h, int w) {
        AvgPool2d pool = new AvgPool2d("pool", 2, 2, Padding.SAME);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, h, w);
        INDArray y = pool.forward(x, Mode.EVAL);
        INDArray expected = Reference.avgPoolSame(x.castTo(DataType.DOUBLE), 2, 2);
        assertArrayEquals(expected.shape(), y.shape());
        double diff = expected.sub(y.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff < 1e-6, "max abs diff " + diff);
    }

    @Test
    void partialWindowOnOddSize() {
        AvgPool2d pool = new AvgPool2d("pool", 2, 2, Padding.SAME);
        INDArray x = Nd4j.createFromArray(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}).reshape(1, 1, 3, 3);
        INDArray y = pool.forward(x, Mode.EVAL);
        // windows: {1,2,4,5} {3,6} {7,8} {9}
        assertEquals(3.0, y.getDouble(0, 0, 0, 0), 1e-6);
        assertEquals(4.5, y.getDouble(0, 0, 0, 1), 1e-6);
        assertEquals(7.5, y.getDouble(0, 0, 1, 0), 1e-6);
        assertEquals(9.0, y.getDouble(0, 0, 1, 1), 1e-6);
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"6, 6", "5, 7", "3, 3"})
    void avgPoolGradients(int h, int w) {
        AvgPool2d pool = new AvgPool2d("pool", 2, 2, Padding.SAME);
        GradientCheck.Result r = GradientCheck.of(pool).check(Nd4j.randn(DataType.DOUBLE, 2, 3, h, w));
        assertTrue(r.maxRelError() < 1e-7, "bound 1e-7: " + r);
    }

    @Test
    void globalAvgPoolGradients() {
        GradientCheck.Result r = GradientCheck.of(new GlobalAvgPool("gap")).check(Nd4j.randn(DataType.DOUBLE, 2, 3, 5, 4));
        assertTrue(r.maxRelError() < 1e-7, "bound 1e-7: " + r);
    }
}
