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

    /** y, dx, a fresh dW and an accumulated dW of {@code l} with options {@code o}. */
    private static INDArray[] pass(Linear l, NFNetsOptions o, INDArray x, INDArray dy) {
        l.useOptions(o);
        l.weight().zeroGrad();
        INDArray y = l.forward(x, Mode.TRAIN);
        INDArray dx = l.backward(dy);
        INDArray dW = l.weight().grad().dup();
        l.forward(x, Mode.TRAIN);
        l.backward(dy.mul(0.5)); // added to the first gradient (beta 1)
        return new INDArray[] {y, dx, dW, l.weight().grad().dup()};
    }

    @Test
    void oneDnnGemmGivesTheProductsOfNd4jGemm() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.nfnets.layers.kernels.OneDnnConv.available(), "oneDNN natives");
        Linear l = new Linear("fc", 96, 40);
        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 96);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 8, 40);
        NFNetsOptions on = NFNetsOptions.builtIn();
        NFNetsOptions off = on.toBuilder().oneDnnGemm(false).build();
        assertTrue(dev.nfnets.layers.kernels.OneDnnGemm.takes(on, x, l.weight().value()), "FLOAT c-order: the oneDNN path");
        assertTrue(!dev.nfnets.layers.kernels.OneDnnGemm.takes(off, x, l.weight().value()), "switched off");
        assertTrue(!dev.nfnets.layers.kernels.OneDnnGemm.takes(on, x.castTo(DataType.DOUBLE)), "DOUBLE: ND4J's gemm");
        assertTrue(!dev.nfnets.layers.kernels.OneDnnGemm.takes(on, Nd4j.randn(DataType.FLOAT, 96, 8).transpose()), "a view");
        INDArray[] nd4j = pass(l, off, x, dy);
        INDArray[] onednn = pass(l, on, x, dy);
        String[] names = {"y", "dx", "dW", "dW accumulated"};
        for (int i = 0; i < names.length; i++) {
            double err = onednn[i].sub(nd4j[i]).amaxNumber().doubleValue() / nd4j[i].amaxNumber().doubleValue();
            assertTrue(err < 1e-6, names[i] + ": relative difference " + err);
        }
        assertTrue(onednn[3].sub(onednn[2].mul(1.5)).amaxNumber().doubleValue() < 1e-4 * onednn[2].amaxNumber().doubleValue(),
                "the second backward pass added half the first gradient");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dev.nfnets.layers.kernels.OneDnnGemm
                .gemm(x, false, dy, false, Nd4j.create(DataType.FLOAT, 8, 40), 0.0));
        assertTrue(e.getMessage().contains("8x96 times op(B) 8x40"), e.getMessage());
    }
}
