package dev.nfnets.layers.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NestedScopeTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    /** A "block": allocates several temporaries of the input's size and returns in * 2 + 1. */
    private static INDArray block(INDArray in) {
        INDArray t = in.dup();
        for (int i = 0; i < 4; i++) {
            t = t.dup().muli(1.0);
        }
        return t.muli(2).addi(1);
    }

    @Test
    void outsideAnyScopeItJustApplies() {
        INDArray x = Nd4j.linspace(DataType.FLOAT, 1, 6, 1);
        INDArray y = StepScope.nested(NestedScopeTest::block, x);
        assertFalse(y.isAttached());
        assertEquals(x.mul(2).add(1), y);
    }

    @Test
    void resultIsCopiedToTheEnclosingScopeAndTemporariesAreRecycled() {
        long n = 1 << 20; // 4 MB per temporary
        INDArray host = Nd4j.rand(DataType.FLOAT, n);
        long withNesting = 0;
        long without = 0;
        for (int step = 0; step < 3; step++) { // the scopes learn their sizes in the first step
            try (StepScope scope = StepScope.open("nested-test-a")) {
                INDArray x = host.dup();
                for (int b = 0; b < 8; b++) {
                    x = StepScope.nested(NestedScopeTest::block, x);
                }
                assertTrue(x.isAttached());
                assertEquals("nfnets-nested-test-a", x.data().getParentWorkspace().getId());
                INDArray expected = host.dup();
                for (int b = 0; b < 8; b++) {
                    expected = expected.muli(2).addi(1);
                }
                assertEquals(0, expected.sub(x).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue(), 1e-6);
                withNesting = scope.reservedBytes();
            }
            try (StepScope scope = StepScope.open("nested-test-b")) {
                INDArray x = host.dup();
                for (int b = 0; b < 8; b++) {
                    x = block(x);
                }
                without = scope.reservedBytes();
            }
        }
        // without nesting the step scope holds 8 blocks x 6 arrays; with it, the input and 8 results
        assertTrue(withNesting < without / 3, "nested " + withNesting + " bytes, flat " + without + " bytes");
    }

    @Test
    void nestedRunRecyclesTemporariesAndUpdatesDetachedArraysInPlace() {
        INDArray target = Nd4j.zeros(DataType.FLOAT, 1 << 18); // detached, like a gradient
        long withNesting = 0;
        long without = 0;
        for (int step = 0; step < 3; step++) {
            try (StepScope scope = StepScope.open("nested-test-d")) {
                for (int i = 0; i < 8; i++) {
                    double s = StepScope.nestedRun(() -> {
                        INDArray t = target.dup().addi(1);
                        target.assign(t);
                        return t.sumNumber().doubleValue();
                    });
                    assertEquals((double) target.length() * (step * 8 + i + 1), s, 1e-3 * s);
                }
                withNesting = scope.reservedBytes();
            }
            try (StepScope scope = StepScope.open("nested-test-e")) {
                for (int i = 0; i < 8; i++) {
                    target.dup().addi(1);
                }
                without = scope.reservedBytes();
            }
        }
        assertFalse(target.isAttached());
        assertEquals(24.0, target.getDouble(0), 1e-6);
        assertTrue(withNesting < without / 3, "nested " + withNesting + " bytes, flat " + without + " bytes");
    }

    @Test
    void anArrayAlreadyInTheEnclosingScopeIsReturnedAsItIs() {
        try (StepScope scope = StepScope.open("nested-test-c")) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 10);
            assertSame(x, StepScope.nested(in -> in, x));
        }
    }

    /** A chain through a carry: right results, two buffers in the enclosing scope instead of one copy per block. */
    @Test
    void aCarryHoldsTwoResultsInsteadOfOnePerCall() {
        long n = 1 << 18;
        INDArray host = Nd4j.rand(DataType.FLOAT, n);
        INDArray expected = host.dup();
        for (int b = 0; b < 12; b++) {
            expected = expected.muli(2).addi(1);
        }
        long withCarry = 0;
        long withCopies = 0;
        for (int step = 0; step < 3; step++) {
            try (StepScope scope = StepScope.open("carry-test-a")) {
                INDArray x = host.dup();
                StepScope.Carry carry = new StepScope.Carry(n);
                for (int b = 0; b < 12; b++) {
                    x = carry.nested(NestedScopeTest::block, x);
                    assertTrue(x.isAttached());
                    assertEquals("nfnets-carry-test-a", x.data().getParentWorkspace().getId());
                }
                withCarry = scope.reservedBytes();
                assertEquals(0, expected.sub(x).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue(), 1e-6);
            }
            try (StepScope scope = StepScope.open("carry-test-b")) {
                INDArray x = host.dup();
                for (int b = 0; b < 12; b++) {
                    x = StepScope.nested(NestedScopeTest::block, x);
                }
                withCopies = scope.reservedBytes();
            }
        }
        // the input, two buffers and the check's difference, against the input and twelve results
        long array = n * 4;
        assertTrue(withCarry <= 4.5 * array, "carry: " + withCarry + " bytes");
        assertTrue(withCopies >= 12 * array, "copies: " + withCopies + " bytes");
    }

    /** Results of other shapes fit in the buffers; results over the capacity are copied as nested() does. */
    @Test
    void aCarryTakesSmallerShapesAndCopiesLargerResults() {
        try (StepScope scope = StepScope.open("carry-test-c")) {
            StepScope.Carry carry = new StepScope.Carry(24);
            INDArray x = Nd4j.linspace(DataType.FLOAT, 1, 24, 1).reshape(2, 3, 4);
            INDArray y = carry.nested(in -> in.reshape(6, 4).mul(2), x);
            assertEquals(x.reshape(6, 4).mul(2), y);
            INDArray z = carry.nested(in -> in.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).add(1), y);
            assertEquals(x.reshape(6, 4).mul(2).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).add(1), z);
            assertEquals(y, x.reshape(6, 4).mul(2), "the previous result is still intact");
            INDArray big = carry.nested(in -> Nd4j.ones(DataType.FLOAT, 30), z);
            assertEquals(30, big.length());
            assertEquals(30.0, big.sumNumber().doubleValue(), 0.0);
            assertEquals("nfnets-carry-test-c", big.data().getParentWorkspace().getId());
        }
    }

    @Test
    void aCarryOutsideAnyScopeJustApplies() {
        INDArray x = Nd4j.linspace(DataType.FLOAT, 1, 6, 1);
        INDArray y = new StepScope.Carry(6).nested(NestedScopeTest::block, x);
        assertFalse(y.isAttached());
        assertEquals(x.mul(2).add(1), y);
    }
}
