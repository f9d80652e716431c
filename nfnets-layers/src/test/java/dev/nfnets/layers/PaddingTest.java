package dev.nfnets.layers;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PaddingTest {
    @Test
    void sameStride2OnEvenSizePadsOnlyAfter() {
        assertArrayEquals(new int[] {0, 1}, Padding.SAME.pads(256, 3, 2));
        assertEquals(128, Padding.SAME.outputSize(256, 3, 2));
    }

    @Test
    void sameStride2OnOddSizePadsBothSides() {
        assertArrayEquals(new int[] {1, 1}, Padding.SAME.pads(47, 3, 2));
        assertEquals(24, Padding.SAME.outputSize(47, 3, 2));
    }

    @Test
    void sameStride1() {
        assertArrayEquals(new int[] {1, 1}, Padding.SAME.pads(10, 3, 1));
        assertArrayEquals(new int[] {0, 0}, Padding.SAME.pads(10, 1, 1));
        assertArrayEquals(new int[] {0, 1}, Padding.SAME.pads(5, 2, 2)); // the avg-pool shortcut on odd sizes
    }

    @Test
    void valid() {
        assertEquals(4, Padding.VALID.outputSize(10, 3, 2));
        assertArrayEquals(new int[] {0, 0}, Padding.VALID.pads(10, 3, 2));
    }
}
