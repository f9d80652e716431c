package dev.nfnets.layers;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Parameter}'s gradient: lazily zeroed, accumulated, overwritten by backward passes that may. */
class ParameterTest {
    @Test
    void zeroGradMarksTheGradientAndReadingItGivesZeros() {
        Parameter p = new Parameter("w", Nd4j.ones(DataType.FLOAT, 4, 3), Tag.WEIGHT);
        assertTrue(p.gradIsZero(), "a new parameter has no gradient yet");
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 4, 3).muli(2));
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 4, 3));
        assertFalse(p.gradIsZero());
        assertEquals(36.0, p.grad().sumNumber().doubleValue(), 0.0, "two accumulations add");
        INDArray buffer = p.grad();
        p.zeroGrad();
        assertTrue(p.gradIsZero());
        assertEquals(36.0, buffer.sumNumber().doubleValue(), 0.0, "zeroGrad only marks the buffer");
        INDArray g = p.grad();
        assertSame(buffer, g, "the same buffer, now holding zeros");
        assertEquals(0.0, g.amaxNumber().doubleValue(), 0.0);
        assertFalse(p.gradIsZero());
    }

    @Test
    void accumulatingIntoAMarkedGradientOverwritesTheStaleValues() {
        Parameter p = new Parameter("w", Nd4j.ones(DataType.FLOAT, 5), Tag.WEIGHT);
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 5).muli(7));
        p.zeroGrad();
        p.accumulateGrad(Nd4j.createFromArray(1f, 2f, 3f, 4f, 5f));
        p.accumulateGrad(Nd4j.createFromArray(1f, 1f, 1f, 1f, 1f));
        assertEquals(Nd4j.createFromArray(2f, 3f, 4f, 5f, 6f), p.grad());
    }

    @Test
    void gradForWritingClearsTheMarkWithoutZeroing() {
        Parameter p = new Parameter("w", Nd4j.ones(DataType.FLOAT, 3), Tag.WEIGHT);
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 3).muli(4));
        p.zeroGrad();
        INDArray g = p.gradForWriting();
        assertFalse(p.gradIsZero());
        assertEquals(12.0, g.sumNumber().doubleValue(), 0.0, "the caller overwrites it; nothing was written");
        g.assign(1);
        assertEquals(3.0, p.grad().sumNumber().doubleValue(), 0.0);
    }

    @Test
    void frozenParametersIgnoreGradientsAndWrongShapesAreNamed() {
        Parameter p = new Parameter("kernel", Nd4j.ones(DataType.FLOAT, 2, 2), Tag.WEIGHT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 2, 3)));
        assertTrue(e.getMessage().contains("kernel") && e.getMessage().contains("[2, 2]") && e.getMessage().contains("[2, 3]"),
                e.getMessage());
        p.setFrozen(true);
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 2, 2));
        assertTrue(p.gradIsZero());
    }

    /** A layer whose backward pass overwrites a marked gradient gives the same gradient as one that adds to zeros. */
    @Test
    void linearWritesAMarkedGradientAndAddsOtherwise() {
        Nd4j.getRandom().setSeed(3);
        Linear fc = new Linear("fc", 6, 4);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 6);
        INDArray dy = Nd4j.randn(DataType.FLOAT, 3, 4);
        fc.forward(x, Mode.TRAIN);
        fc.backward(dy);
        INDArray once = fc.parameter("weight").grad().dup();
        fc.forward(x, Mode.TRAIN);
        fc.backward(dy);
        INDArray twice = fc.parameter("weight").grad().dup();
        assertTrue(twice.sub(once.mul(2)).amaxNumber().doubleValue() < 1e-6, "a second backward adds");
        fc.parameter("weight").zeroGrad();
        fc.forward(x, Mode.TRAIN);
        fc.backward(dy);
        assertEquals(once, fc.parameter("weight").grad(), "after zeroGrad the stale values are overwritten");
    }

    @Test
    void aStaleGradientIsLentUntilAnythingMayWriteIt() {
        Parameter p = new Parameter("w", Nd4j.ones(DataType.FLOAT, 4, 3), Tag.WEIGHT);
        Parameter.StaleGradLoan loan = p.lendStaleGrad();
        assertTrue(loan != null && p.holds(loan), "a parameter without a gradient lends a new buffer");
        assertTrue(p.gradIsZero(), "the lent buffer still stands for zeros");
        loan.buffer().assign(5f);
        p.zeroGrad();
        assertTrue(p.holds(loan), "zeroGrad only marks the buffer: the loan holds");
        assertEquals(60.0, loan.buffer().sumNumber().doubleValue(), 0.0, "and the borrower's data is intact");
        assertSame(loan.buffer(), p.gradForWriting(), "the loan is the gradient buffer itself");
        assertFalse(p.holds(loan), "gradForWriting ends the loan");

        p.zeroGrad();
        Parameter.StaleGradLoan second = p.lendStaleGrad();
        assertTrue(p.holds(second));
        assertEquals(0.0, p.grad().amaxNumber().doubleValue(), 0.0, "reading the gradient writes the zeros");
        assertFalse(p.holds(second), "grad() ends the loan");
        assertFalse(p.holds(loan), "an ended loan stays ended");
        assertEquals(null, p.lendStaleGrad(), "a gradient that is not marked zero is not lent");

        p.zeroGrad();
        Parameter.StaleGradLoan third = p.lendStaleGrad();
        p.accumulateGrad(Nd4j.ones(DataType.FLOAT, 4, 3));
        assertFalse(p.holds(third), "accumulating a gradient ends the loan");
        p.zeroGrad();
        Parameter.StaleGradLoan fourth = p.lendStaleGrad();
        p.setValue(Nd4j.ones(DataType.FLOAT, 4, 3));
        assertFalse(p.holds(fourth), "a new value ends the loan");
        assertFalse(p.holds(null));

        p.setFrozen(true);
        assertEquals(null, p.lendStaleGrad(), "a frozen parameter lends nothing");
    }
}
