package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyArrayTest {

    @Test
    void toINDArrayKeepsShapeValuesAndMapsTypes() {
        INDArray f = NpyArray.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6).toINDArray();
        assertEquals(DataType.FLOAT, f.dataType());
        assertArrayEquals(new long[] {2, 3}, f.shape());
        assertEquals('c', f.ordering());
        assertEquals(6f, f.getFloat(1, 2));

        INDArray d = NpyArray.ofDoubles(new long[] {2}, 0.1, 0.2).toINDArray();
        assertEquals(DataType.DOUBLE, d.dataType());
        assertEquals(0.2, d.getDouble(1));

        INDArray i = NpyArray.ofInts(new long[] {1, 2}, -3, 4).toINDArray();
        assertEquals(DataType.INT32, i.dataType());
        assertEquals(-3, i.getInt(0, 0));

        INDArray l = NpyArray.ofLongs(new long[] {2}, Long.MIN_VALUE, 5).toINDArray();
        assertEquals(DataType.INT64, l.dataType());
        assertEquals(Long.MIN_VALUE, l.getLong(0));

        INDArray u = new NpyArray(NpyDType.U1, new long[] {3}, new byte[] {0, (byte) 128, (byte) 255}).toINDArray();
        assertEquals(DataType.UINT8, u.dataType());
        assertArrayEquals(new int[] {0, 128, 255}, u.castTo(DataType.INT32).toIntVector());

        INDArray b = NpyArray.ofBooleans(new long[] {2, 2}, true, false, false, true).toINDArray();
        assertEquals(DataType.BOOL, b.dataType());
        assertArrayEquals(new int[] {1, 0, 0, 1}, b.castTo(DataType.INT32).reshape(4).toIntVector());

        INDArray h = new NpyArray(NpyDType.F2, new long[] {3}, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0, 0x01, 0x00}).toINDArray();
        assertEquals(DataType.FLOAT, h.dataType());
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f}, h.toFloatVector());

        INDArray bf = new NpyArray(NpyDType.BF16, new long[] {2}, new byte[] {(byte) 0x80, 0x3f, 0x49, 0x40}).toINDArray();
        assertEquals(DataType.FLOAT, bf.dataType());
        assertArrayEquals(new float[] {1f, Float.intBitsToFloat(0x40490000)}, bf.toFloatVector());

        INDArray s = NpyArray.ofFloats(new long[0], 2.5f).toINDArray();
        assertEquals(0, s.rank());
        assertEquals(2.5f, s.getFloat(0));

        INDArray e = NpyArray.ofFloats(new long[] {0, 3}).toINDArray();
        assertArrayEquals(new long[] {0, 3}, e.shape());
        assertTrue(e.isEmpty());
    }

    @Test
    void everyDtypeSurvivesINDArrayRoundTrip() {
        byte[] two = new byte[16];
        for (int k = 0; k < two.length; k++) {
            two[k] = (byte) (k * 37 + 3);
        }
        for (NpyDType t : NpyDType.values()) {
            if (t == NpyDType.F2 || t == NpyDType.BF16) {
                continue; // come back as FLOAT, checked separately
            }
            byte[] data = java.util.Arrays.copyOf(two, 2 * t.itemSize());
            if (t == NpyDType.B1) {
                data = new byte[] {1, 0};
            }
            NpyArray a = new NpyArray(t, new long[] {2}, data);
            INDArray x = a.toINDArray();
            assertEquals(t.ndArrayType(), x.dataType(), t.name());
            assertEquals(a, NpyArray.fromINDArray(x), t.name());
        }
    }

    @Test
    void fromINDArrayHandlesViewsPermutesAndFortranOrder() {
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i + 1; // exact, unlike Nd4j.linspace
        }
        INDArray base = Nd4j.createFromArray(values).reshape('c', 2, 3, 4);
        INDArray perm = base.permute(2, 0, 1); // (4, 2, 3) view with odd strides
        NpyArray p = NpyArray.fromINDArray(perm);
        assertArrayEquals(new long[] {4, 2, 3}, p.shape());
        float[] v = p.toFloatArray();
        int n = 0;
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(base.getFloat(i, j, k), v[n++]);
                }
            }
        }

        INDArray f = Nd4j.create(DataType.DOUBLE, new long[] {3, 2}, 'f');
        f.assign(Nd4j.createFromArray(new double[][] {{1, 2}, {3, 4}, {5, 6}}));
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, NpyArray.fromINDArray(f).toDoubleArray());

        INDArray sub = base.get(NDArrayIndex.point(1), NDArrayIndex.interval(1, 3), NDArrayIndex.interval(0, 2, 4)); // (begin, stride, end)
        NpyArray s = NpyArray.fromINDArray(sub);
        assertArrayEquals(new long[] {2, 2}, s.shape());
        assertArrayEquals(new float[] {17, 19, 21, 23}, s.toFloatArray());

        NpyArray scalar = NpyArray.fromINDArray(Nd4j.scalar(7L));
        assertEquals(NpyDType.I8, scalar.dtype());
        assertEquals(0, scalar.rank());
        assertArrayEquals(new long[] {7}, scalar.toLongArray());

        NpyArray empty = NpyArray.fromINDArray(Nd4j.create(DataType.FLOAT, 0, 5));
        assertArrayEquals(new long[] {0, 5}, empty.shape());
        assertEquals(0, empty.byteCount());
    }

    @Test
    void halfAndBfloat16INDArraysKeepTheirDtype() {
        INDArray h = Nd4j.createFromArray(1f, -0.5f, 65504f).castTo(DataType.HALF);
        NpyArray a = NpyArray.fromINDArray(h);
        assertEquals(NpyDType.F2, a.dtype());
        assertArrayEquals(new float[] {1f, -0.5f, 65504f}, a.toFloatArray());

        INDArray b = Nd4j.createFromArray(1f, 3.140625f).castTo(DataType.BFLOAT16);
        NpyArray c = NpyArray.fromINDArray(b);
        assertEquals(NpyDType.BF16, c.dtype());
        assertArrayEquals(new float[] {1f, 3.140625f}, c.toFloatArray());
        assertEquals(NpyDType.F4, c.toFloat32().dtype());
        assertArrayEquals(new float[] {1f, 3.140625f}, c.toFloat32().toFloatArray());
    }

    @Test
    void float16ConversionsRoundTripEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Float16.halfToFloat((short) bits);
            short back = Float16.floatToHalf(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Float16.halfToFloat(back)));
            } else {
                assertEquals((short) bits, back, "half bits " + Integer.toHexString(bits));
            }
        }
        // rounding: nearest, ties to even
        assertEquals((short) 0x3c00, Float16.floatToHalf(1f + 0x1p-11f));          // tie -> even (1.0)
        assertEquals((short) 0x3c02, Float16.floatToHalf(1f + 3 * 0x1p-11f));      // tie -> even (1+2^-9)
        assertEquals((short) 0x3c01, Float16.floatToHalf(1f + 0x1p-11f + 0x1p-20f));
        assertEquals((short) 0x7c00, Float16.floatToHalf(65520f));                  // rounds up to infinity
        assertEquals((short) 0x7bff, Float16.floatToHalf(65519f));
        assertEquals((short) 0x0001, Float16.floatToHalf(0x1p-24f));
        assertEquals((short) 0x0000, Float16.floatToHalf(0x1p-25f));                // tie -> even (0)
        assertEquals((short) 0x0001, Float16.floatToHalf(0x1.8p-25f));
        assertEquals((short) 0x8000, Float16.floatToHalf(-0f));

        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Float16.bf16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Float16.floatToBf16(f));
            }
        }
        assertEquals((short) 0x3f80, Float16.floatToBf16(Float.intBitsToFloat(0x3f808000))); // tie -> even
        assertEquals((short) 0x3f82, Float16.floatToBf16(Float.intBitsToFloat(0x3f818000)));
    }

    @Test
    void constructorValidates() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NpyArray(NpyDType.F4, new long[] {2, 2}, new byte[12]));
        assertTrue(e.getMessage().contains("needs 16 bytes but 12"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NpyArray(NpyDType.F4, new long[] {-1}, new byte[0]));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NpyArray(NpyDType.B1, new long[] {1}, new byte[] {2}));
        assertTrue(e.getMessage().contains("only 0 and 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NpyArray.ofFloats(new long[] {3}, 1f, 2f));
        assertTrue(e.getMessage().contains("holds 3 elements but 2"), e.getMessage());
    }

    @Test
    void isImmutableAndComparesByContent() {
        byte[] data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).array();
        long[] shape = {2};
        NpyArray a = new NpyArray(NpyDType.F4, shape, data);
        data[0] = 9;
        shape[0] = 5;
        a.data()[1] = 9;
        a.shape()[0] = 7;
        assertArrayEquals(new long[] {2}, a.shape());
        assertArrayEquals(new float[] {1f, 2f}, a.toFloatArray());
        assertEquals(NpyArray.ofFloats(new long[] {2}, 1f, 2f), a);
        assertEquals(NpyArray.ofFloats(new long[] {2}, 1f, 2f).hashCode(), a.hashCode());
        assertNotEquals(NpyArray.ofFloats(new long[] {1, 2}, 1f, 2f), a);
        assertEquals("NpyArray[F4 (2,)]", a.toString());
        assertThrows(IllegalStateException.class, a::toLongArray);
    }

    @Test
    void conversionsToJavaArrays() {
        NpyArray u8 = new NpyArray(NpyDType.U8, new long[] {1}, IoFixtures.longsLE(-1L));
        assertEquals(18446744073709551615.0, u8.toDoubleArray()[0]);
        NpyArray u4 = new NpyArray(NpyDType.U4, new long[] {1}, new byte[] {-1, -1, -1, -1});
        assertArrayEquals(new long[] {4294967295L}, u4.toLongArray());
        NpyArray f8 = NpyArray.ofDoubles(new long[] {2}, 0.1, 1e300);
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY}, f8.toFloatArray());
        assertArrayEquals(new float[] {1f, 0f}, NpyArray.ofBooleans(new long[] {2}, true, false).toFloatArray());
    }
}
