package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.nfnets.core.io.IoFixtures.floatsLE;
import static dev.nfnets.core.io.IoFixtures.longsLE;
import static dev.nfnets.core.io.IoFixtures.micro;
import static dev.nfnets.core.io.IoFixtures.npy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path tmp;

    // ------------------------------------------------------------------ fixtures

    @Test
    void readsLabelsAsInt32() throws IOException {
        NpyArray s64 = Npy.read(micro("s64/labels.npy"));
        assertEquals(NpyDType.I4, s64.dtype());
        assertArrayEquals(new long[] {2}, s64.shape());
        assertArrayEquals(new long[] {0, 7}, s64.toLongArray());
        INDArray x = s64.toINDArray();
        assertEquals(DataType.INT32, x.dataType());
        assertArrayEquals(new int[] {0, 7}, x.toIntVector());

        NpyArray s47 = Npy.read(micro("s47/labels.npy"));
        assertArrayEquals(new long[] {5, 1}, s47.toLongArray());
    }

    @Test
    void readsInputLogitsAndLoss() throws IOException {
        NpyArray input = Npy.read(micro("s64/input.npy"));
        assertEquals(NpyDType.F4, input.dtype());
        assertArrayEquals(new long[] {2, 3, 64, 64}, input.shape());
        assertArrayEquals(new long[] {2, 3, 47, 47}, Npy.read(micro("s47/input.npy")).shape());

        NpyArray logits = Npy.read(micro("s64/logits.npy"));
        assertArrayEquals(new long[] {2, 10}, logits.shape());
        float[] l = logits.toFloatArray();
        assertEquals(-0.5757944f, l[0], 1e-7f);
        assertEquals(0.6624555f, l[2], 1e-7f);

        NpyArray loss = Npy.read(micro("s64/loss.npy"));
        assertArrayEquals(new long[] {1}, loss.shape());
        assertEquals(2.8708441257476807, loss.toDoubleArray()[0], 1e-6);
    }

    @Test
    void writerReproducesNumpyBytesExactly() throws IOException {
        for (String f : new String[] {"s64/labels.npy", "s64/loss.npy", "s64/logits.npy", "s64/input.npy",
                "s47/labels.npy", "s47/input.npy"}) {
            byte[] original = Files.readAllBytes(micro(f));
            assertArrayEquals(original, Npy.toBytes(Npy.read(micro(f))), f);
        }
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripsManyDtypesAndShapes() throws IOException {
        NpyArray[] arrays = {
            NpyArray.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, Float.NaN),
            NpyArray.ofDoubles(new long[] {3}, Math.PI, -0.0, Double.MAX_VALUE),
            NpyArray.ofLongs(new long[] {2, 2}, Long.MIN_VALUE, -1, 0, Long.MAX_VALUE),
            NpyArray.ofInts(new long[] {1, 1, 2}, Integer.MIN_VALUE, 42),
            NpyArray.ofFloats(new long[0], 0.25f),                // 0-d
            NpyArray.ofDoubles(new long[0], -7.5),                // 0-d float64
            NpyArray.ofLongs(new long[0], 123456789012345L),      // 0-d int64
            NpyArray.ofFloats(new long[] {0, 4}),                 // empty
            NpyArray.ofBooleans(new long[] {3}, true, false, true),
            new NpyArray(NpyDType.U1, new long[] {4}, new byte[] {0, 1, (byte) 200, (byte) 255}),
            new NpyArray(NpyDType.I1, new long[] {2}, new byte[] {-128, 127}),
            new NpyArray(NpyDType.F2, new long[] {2}, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}), // 1, -2
            new NpyArray(NpyDType.I2, new long[] {1}, new byte[] {0x34, 0x12}),
            new NpyArray(NpyDType.U8, new long[] {1}, longsLE(-1L)),
        };
        for (int i = 0; i < arrays.length; i++) {
            Path f = tmp.resolve("a" + i + ".npy");
            Npy.write(f, arrays[i]);
            NpyArray back = Npy.read(f);
            assertEquals(arrays[i], back, "array " + i + " " + arrays[i]);
            assertEquals(0, (Files.size(f) - arrays[i].byteCount()) % 64, "header aligned to 64");
        }
    }

    @Test
    void zeroDimensionalArrayHasEmptyShapeAndRankZeroINDArray() throws IOException {
        Path f = tmp.resolve("scalar.npy");
        Npy.write(f, NpyArray.ofFloats(new long[0], 3.5f));
        String header = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'shape': ()"), header);
        NpyArray back = Npy.read(f);
        assertEquals(0, back.rank());
        assertEquals(1, back.elementCount());
        INDArray x = back.toINDArray();
        assertEquals(0, x.rank());
        assertEquals(3.5f, x.getFloat(0));
    }

    @Test
    void streamRoundTripLeavesFollowingBytesUnread() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        Npy.write(bos, NpyArray.ofInts(new long[] {2}, 1, 2));
        Npy.write(bos, NpyArray.ofInts(new long[] {1}, 3));
        ByteArrayInputStream in = new ByteArrayInputStream(bos.toByteArray());
        assertArrayEquals(new long[] {1, 2}, Npy.read(in, "first").toLongArray());
        assertArrayEquals(new long[] {3}, Npy.read(in, "second").toLongArray());
        assertEquals(-1, in.read());
    }

    @Test
    void readsFortranOrderAsCOrder() throws IOException {
        // a = [[1, 2, 3], [4, 5, 6]]; column-major storage is 1, 4, 2, 5, 3, 6
        byte[] f = npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floatsLE(1, 4, 2, 5, 3, 6));
        Path p = tmp.resolve("fortran.npy");
        Files.write(p, f);
        NpyArray a = Npy.read(p);
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.toFloatArray());
        INDArray x = a.toINDArray();
        assertEquals(2f, x.getFloat(0, 1));
        assertEquals(4f, x.getFloat(1, 0));

        // 3-d int64: value = 100*i + 10*j + k, shape (2, 3, 4), stored column-major
        long[] fdata = new long[24];
        int n = 0;
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < 2; i++) {
                    fdata[n++] = 100 * i + 10 * j + k;
                }
            }
        }
        Files.write(p, npy(1, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3, 4), }", longsLE(fdata)));
        long[] c = Npy.read(p).toLongArray();
        n = 0;
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    assertEquals(100 * i + 10 * j + k, c[n++]);
                }
            }
        }
        // writing always produces C order
        Npy.write(p, Npy.read(p));
        String header = new String(Files.readAllBytes(p), 0, 100, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'fortran_order': False"), header);
        assertArrayEquals(c, Npy.read(p).toLongArray());
    }

    @Test
    void readsBigEndianDtypes() throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN);
        bb.putFloat(1.5f).putFloat(-2f).putFloat(1e-3f);
        Path p = tmp.resolve("be.npy");
        Files.write(p, npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", bb.array()));
        NpyArray a = Npy.read(p);
        assertEquals(NpyDType.F4, a.dtype());
        assertArrayEquals(new float[] {1.5f, -2f, 1e-3f}, a.toFloatArray());

        ByteBuffer bi = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putLong(-5).putLong(1L << 40);
        Files.write(p, npy(1, "{'descr': '>i8', 'fortran_order': True, 'shape': (2, 1), }", bi.array()));
        assertArrayEquals(new long[] {-5, 1L << 40}, Npy.read(p).toLongArray());
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        Path p = tmp.resolve("v.npy");
        Files.write(p, npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", longsLE(Double.doubleToLongBits(2.5))));
        assertArrayEquals(new double[] {2.5}, Npy.read(p).toDoubleArray());
        Files.write(p, npy(3, "{\"descr\": \"<i8\", \"shape\": (), \"fortran_order\": False}", longsLE(9)));
        NpyArray a = Npy.read(p);
        assertEquals(0, a.rank());
        assertArrayEquals(new long[] {9}, a.toLongArray());
    }

    @Test
    void writesVersion2WhenTheHeaderIsTooLongForVersion1() throws IOException {
        assertEquals(1, Npy.header(NpyArray.ofFloats(new long[] {1}, 1f))[6]);
        long[] shape = new long[22_000]; // "1, " per dimension: a header over 64 KiB
        Arrays.fill(shape, 1);
        NpyArray a = NpyArray.ofFloats(shape, 4f);
        Path p = tmp.resolve("v2.npy");
        Npy.write(p, a);
        byte[] b = Files.readAllBytes(p);
        assertEquals(2, b[6]);
        assertEquals(0, (b.length - 4) % 64);
        assertEquals(a, Npy.read(p));
    }

    // ------------------------------------------------------------------ errors

    private TensorFormatException readFails(byte[] content) throws IOException {
        Path p = tmp.resolve("bad.npy");
        Files.write(p, content);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void badMagic() throws IOException {
        TensorFormatException e = readFails("PK\u0003\u0004 this is a zip".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
        e = readFails(new byte[0]);
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void truncatedData() throws IOException {
        byte[] full = Files.readAllBytes(micro("s64/input.npy"));
        TensorFormatException e = readFails(Arrays.copyOf(full, full.length - 100));
        assertTrue(e.getMessage().contains("truncated data"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 3, 64, 64)"), e.getMessage());
        assertTrue(e.getMessage().contains("98304 bytes"), e.getMessage());

        // also through a stream of unknown length
        TensorFormatException s = assertThrows(TensorFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(Arrays.copyOf(full, 200)), "stream.npy"));
        assertTrue(s.getMessage().startsWith("stream.npy: truncated data"), s.getMessage());
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] full = Files.readAllBytes(micro("s64/labels.npy"));
        TensorFormatException e = readFails(Arrays.copyOf(full, 40));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
        e = readFails(Arrays.copyOf(full, 7));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void unsupportedObjectDtype() throws IOException {
        TensorFormatException e = readFails(npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                new byte[] {(byte) 0x80, 0x02, 'c', 'x'}));
        assertTrue(e.getMessage().contains("unsupported dtype '|O'"), e.getMessage());
        assertTrue(e.getMessage().contains("pickle"), e.getMessage());
        e = readFails(npy(1, "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", new byte[20]));
        assertTrue(e.getMessage().contains("unsupported dtype '<U5'"), e.getMessage());
        e = readFails(npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]));
        assertTrue(e.getMessage().contains("unsupported dtype '<c8'"), e.getMessage());
        e = readFails(npy(1, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[8]));
        assertTrue(e.getMessage().contains("structured"), e.getMessage());
    }

    @Test
    void malformedHeaders() throws IOException {
        String[][] cases = {
            {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", "'shape' must be a tuple"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "'shape' must be a tuple"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "negative dimension"},
            {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' must be True or False"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "unexpected text after the header dict"},
            {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "duplicate key 'descr'"},
            {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
            {"['descr', '<f4']", "expected '{'"},
            {"{'descr': 5, 'fortran_order': False, 'shape': (1,)}", "'descr' must be a string"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2", "unexpected end of header"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1; 2)}", "expected ',' or ')'"},
        };
        for (String[] c : cases) {
            TensorFormatException e = readFails(npy(1, c[0], new byte[8]));
            assertTrue(e.getMessage().contains("malformed header") || e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), "expected '" + c[1] + "' in: " + e.getMessage());
        }
    }

    @Test
    void unsupportedVersion() throws IOException {
        byte[] b = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        b[6] = 4;
        TensorFormatException e = readFails(b);
        assertTrue(e.getMessage().contains("unsupported .npy format version 4.0"), e.getMessage());
    }

    @Test
    void missingFile() {
        Path p = tmp.resolve("nope.npy");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no such .npy file"), e.getMessage());
    }

    @Test
    void bfloat16CannotBeWrittenAsNpy() {
        NpyArray bf = new NpyArray(NpyDType.BF16, new long[] {1}, new byte[] {(byte) 0x80, 0x3f});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(tmp.resolve("bf.npy"), bf));
        assertTrue(e.getMessage().contains("no numpy"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("bf.npy")));
    }
}
