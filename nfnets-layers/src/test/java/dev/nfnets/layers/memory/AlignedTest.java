package dev.nfnets.layers.memory;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import org.bytedeco.javacpp.FloatPointer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Aligned} arrays start on a cache line, inside a step scope and outside one; ND4J's ops and the address given
 * to native kernels agree on where their elements are, and the Java passes, which read buffers through NIO views that
 * ignore a buffer's start, decline them.
 */
class AlignedTest {
    @AfterEach
    void restore() {
        StepScope.releaseAll();
    }

    @Test
    void everyArrayStartsOnA64ByteBoundaryAndIsWhole() {
        try (StepScope ignored = StepScope.open("aligned-test", NFNetsOptions.defaults())) {
            for (int i = 0; i < 40; i++) {
                // odd sizes in between, so that ND4J's next allocation starts off the boundary
                Nd4j.createUninitialized(DataType.FLOAT, 1 + i % 7);
                INDArray a = Aligned.floats(3, 5, 1 + i);
                check(a, new long[] {3, 5, 1 + i});
            }
        }
        INDArray outside = StepScope.outside(() -> Aligned.floats(17));
        check(outside, new long[] {17});
    }

    private static void check(INDArray a, long[] shape) {
        assertTrue(Aligned.isAligned(a), "address " + a.data().addressPointer().address());
        assertArrayEquals(shape, a.shape());
        assertEquals(DataType.FLOAT, a.dataType());
        assertEquals(a.length(), a.data().length(), "its buffer holds exactly its elements");
        assertEquals(a.data().offset() == 0, FloatKernels.dense(a), "the Java passes take it only at offset 0");
        // ND4J's ops and the address native kernels get agree on where its elements are
        a.assign(Nd4j.linspace(1, a.length(), a.length(), DataType.FLOAT).reshape(a.shape()));
        FloatPointer p = new FloatPointer(a.data().addressPointer());
        for (int i = 0; i < a.length(); i++) {
            assertEquals(i + 1f, p.get(i), 1e-5f * (i + 1), "element " + i);
        }
        p.put(0, -5f);
        assertEquals(-5.0, a.getDouble(0));
        assertEquals(a.length() * (a.length() + 1) / 2.0 - 6, a.sumNumber().doubleValue(), 1e-3);
    }

    @Test
    void negativeDimensionIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Aligned.floats(2, -1));
        assertTrue(e.getMessage().contains("[2, -1]"), e.getMessage());
    }
}
