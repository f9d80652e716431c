package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static dev.nfnets.core.io.IoFixtures.floatsLE;
import static dev.nfnets.core.io.IoFixtures.micro;
import static dev.nfnets.core.io.IoFixtures.npy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpzTest {
    @TempDir
    Path tmp;

    @Test
    void readsNumpySavezWeights() throws IOException {
        LinkedHashMap<String, NpyArray> w = Npz.read(micro("weights.npz"));
        assertEquals(114, w.size());
        List<String> keys = new ArrayList<>(w.keySet());
        assertEquals("NFNet/~/stem_conv0/w", keys.get(0));
        assertEquals("NFNet/~/linear/b", keys.get(keys.size() - 1));

        NpyArray stem = w.get("NFNet/~/stem_conv0/w");
        assertEquals(NpyDType.F4, stem.dtype());
        assertArrayEquals(new long[] {3, 3, 3, 16}, stem.shape());
        float[] v = stem.toFloatArray();
        assertEquals(0xbf901b85, Float.floatToRawIntBits(v[0]));   // values checked with numpy
        assertEquals(0xbfc1326c, Float.floatToRawIntBits(v[v.length - 1]));

        NpyArray fc = w.get("NFNet/~/linear/w");
        assertArrayEquals(new long[] {256, 10}, fc.shape());
        assertEquals(-0.09885745f, w.get("NFNet/~/linear/b").toFloatArray()[0], 1e-8f);
        assertArrayEquals(new long[] {1}, w.get("NFNet/~/nf_block_3/skip_gain").shape());

        long params = 0;
        for (NpyArray a : w.values()) {
            assertEquals(NpyDType.F4, a.dtype());
            params += a.elementCount();
        }
        assertEquals(326_463, params);
    }

    @Test
    void gradsAndStep1HaveTheWeightKeysAndShapes() throws IOException {
        LinkedHashMap<String, NpyArray> w = Npz.read(micro("weights.npz"));
        for (String f : new String[] {"s64/grads.npz", "s64/step1.npz", "s47/grads.npz", "s47/step1.npz"}) {
            LinkedHashMap<String, NpyArray> g = Npz.read(micro(f));
            assertEquals(new ArrayList<>(w.keySet()), new ArrayList<>(g.keySet()), f);
            for (Map.Entry<String, NpyArray> e : g.entrySet()) {
                assertArrayEquals(w.get(e.getKey()).shape(), e.getValue().shape(), f + " " + e.getKey());
            }
        }
        NpyArray one = Npz.read(micro("weights.npz"), "NFNet/~/linear/w");
        assertEquals(w.get("NFNet/~/linear/w"), one);
    }

    @Test
    void roundTripStoredAndCompressed() throws IOException {
        LinkedHashMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("z/last", NpyArray.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
        m.put("a/~/scalar", NpyArray.ofFloats(new long[0], 42f));
        m.put("f64", NpyArray.ofDoubles(new long[] {3}, 1e-300, -0.0, Double.NaN));
        m.put("i64", NpyArray.ofLongs(new long[] {2, 1}, Long.MAX_VALUE, -9));
        m.put("labels", NpyArray.ofInts(new long[] {2}, 0, 7));
        m.put("mask", NpyArray.ofBooleans(new long[] {2}, true, false));
        m.put("empty", NpyArray.ofFloats(new long[] {0}));

        Path stored = tmp.resolve("stored.npz");
        Npz.write(stored, m);
        LinkedHashMap<String, NpyArray> back = Npz.read(stored);
        assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(back.keySet()), "order kept");
        assertEquals(m, back);
        try (ZipFile z = new ZipFile(stored.toFile())) {
            ZipEntry e = z.getEntry("a/~/scalar.npy");
            assertEquals(ZipEntry.STORED, e.getMethod());
        }

        Path deflated = tmp.resolve("deflated.npz");
        Npz.write(deflated, m, true);
        assertEquals(m, Npz.read(deflated));
        try (ZipFile z = new ZipFile(deflated.toFile())) {
            assertEquals(ZipEntry.DEFLATED, z.getEntry("z/last.npy").getMethod());
        }

        // the fixture survives a rewrite unchanged, and the output is deterministic
        LinkedHashMap<String, NpyArray> w = Npz.read(micro("weights.npz"));
        Path copy = tmp.resolve("copy.npz");
        Npz.write(copy, w);
        assertEquals(w, Npz.read(copy));
        byte[] first = Files.readAllBytes(copy);
        Npz.write(copy, w);
        assertArrayEquals(first, Files.readAllBytes(copy));
    }

    @Test
    void readsDeflatedEntriesWrittenByJavaUtilZip() throws IOException {
        Path p = tmp.resolve("handmade.npz");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            zos.setMethod(ZipOutputStream.DEFLATED);
            zos.putNextEntry(new ZipEntry("fortran.npy"));
            zos.write(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floatsLE(1, 4, 2, 5, 3, 6)));
            zos.closeEntry();
            zos.putNextEntry(new ZipEntry("NFNet/~/nf_block/skip_gain.npy"));
            zos.write(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", floatsLE(0.75f)));
            zos.closeEntry();
            float[] big = new float[10_000];
            Arrays.fill(big, 0.5f);
            zos.putNextEntry(new ZipEntry("big.npy"));
            zos.write(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100), }", floatsLE(big)));
            zos.closeEntry();
        }
        assertTrue(Files.size(p) < 10_000, "compressed");
        LinkedHashMap<String, NpyArray> m = Npz.read(p);
        assertEquals(List.of("fortran", "NFNet/~/nf_block/skip_gain", "big"), new ArrayList<>(m.keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, m.get("fortran").toFloatArray());
        assertEquals(0, m.get("NFNet/~/nf_block/skip_gain").rank());
        assertEquals(0.75f, m.get("NFNet/~/nf_block/skip_gain").toFloatArray()[0]);
        assertArrayEquals(new long[] {100, 100}, m.get("big").shape());
    }

    @Test
    void nonNpyEntryIsAnError() throws IOException {
        Path p = tmp.resolve("mixed.npz");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            zos.putNextEntry(new ZipEntry("ok.npy"));
            zos.write(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floatsLE(1f)));
            zos.closeEntry();
            zos.putNextEntry(new ZipEntry("README.txt"));
            zos.write("hello".getBytes(StandardCharsets.UTF_8));
            zos.closeEntry();
        }
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npz.read(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("entry 'README.txt' is not a .npy array"), e.getMessage());
    }

    @Test
    void malformedEntryNamesArchiveAndEntry() throws IOException {
        Path p = tmp.resolve("bad-entry.npz");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            zos.putNextEntry(new ZipEntry("NFNet/~/linear/w.npy"));
            zos.write(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (256, 10), }", floatsLE(1f, 2f)));
            zos.closeEntry();
        }
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npz.read(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("entry 'NFNet/~/linear/w.npy'"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated data"), e.getMessage());

        TensorFormatException missing = assertThrows(TensorFormatException.class,
                () -> Npz.read(micro("weights.npz"), "NFNet/~/nope"));
        assertTrue(missing.getMessage().contains("no entry 'NFNet/~/nope.npy'"), missing.getMessage());
    }

    @Test
    void notAZipAndMissingFile() throws IOException {
        Path p = tmp.resolve("not-a-zip.npz");
        Files.write(p, Npy.toBytes(NpyArray.ofFloats(new long[] {1}, 1f)));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npz.read(p));
        assertTrue(e.getMessage().contains("not a valid .npz (zip) archive"), e.getMessage());

        Path none = tmp.resolve("none.npz");
        NoSuchFileException n = assertThrows(NoSuchFileException.class, () -> Npz.read(none));
        assertTrue(n.getMessage().contains("no such .npz file"), n.getMessage());
    }

    @Test
    void failedWriteLeavesExistingArchive() throws IOException {
        Path p = tmp.resolve("keep.npz");
        Map<String, NpyArray> ok = Map.of("a", NpyArray.ofFloats(new long[] {1}, 1f));
        Npz.write(p, ok);
        byte[] before = Files.readAllBytes(p);
        Map<String, NpyArray> bad = new LinkedHashMap<>();
        bad.put("a", NpyArray.ofFloats(new long[] {1}, 2f));
        bad.put("b", new NpyArray(NpyDType.BF16, new long[] {1}, new byte[2]));
        assertThrows(IllegalArgumentException.class, () -> Npz.write(p, bad));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count());
        }
    }
}
