package dev.nfnets.layers.optim;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class InPlaceTest {
    private static void check(INDArray x, INDArray y, double a) {
        double[] before = y.dup('c').reshape(-1).toDoubleVector();
        double[] xv = x.dup('c').reshape(-1).toDoubleVector();
        assertSame(y, InPlace.axpy(a, x, y));
        double[] after = y.dup('c').reshape(-1).toDoubleVector();
        for (int i = 0; i < after.length; i++) {
            assertEquals(before[i] + a * xv[i], after[i], 1e-6 * (1 + Math.abs(before[i])), "element " + i);
        }
    }

    @Test
    void denseArraysInFloatAndDouble() {
        for (DataType t : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            Nd4j.getRandom().setSeed(7);
            check(Nd4j.rand(t, 3, 4, 5), Nd4j.rand(t, 3, 4, 5), -0.37);
        }
    }

    @Test
    void viewsTakeTheGeneralPathAndLeaveTheRestOfTheBufferAlone() {
        Nd4j.getRandom().setSeed(8);
        INDArray big = Nd4j.rand(DataType.FLOAT, 6, 5);
        INDArray untouched = big.get(NDArrayIndex.interval(0, 2), NDArrayIndex.all()).dup();
        INDArray y = big.get(NDArrayIndex.interval(2, 6), NDArrayIndex.all());
        check(Nd4j.rand(DataType.FLOAT, 4, 5), y, 2.5);
        assertEquals(untouched, big.get(NDArrayIndex.interval(0, 2), NDArrayIndex.all()));
        INDArray column = Nd4j.rand(DataType.FLOAT, 5, 3).getColumn(1);
        check(Nd4j.rand(DataType.FLOAT, 5), column, 0.5);
    }

    @Test
    void zeroAlphaIsANoOp() {
        INDArray y = Nd4j.rand(DataType.FLOAT, 4);
        INDArray before = y.dup();
        InPlace.axpy(0, Nd4j.rand(DataType.FLOAT, 4), y);
        assertEquals(before, y);
    }
}
