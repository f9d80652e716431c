package dev.nfnets.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.nfnets.core.io.IoFixtures.micro;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void readsReferenceFile() throws IOException {
        SafetensorsFile st = Safetensors.read(micro("weights.safetensors"));
        assertEquals(114, st.tensors().size());
        assertEquals("pt", st.metadata().get("format"));
        assertEquals("micro_dmstem_d2111", st.metadata().get("variant"));

        NpyArray stem = st.tensor("stem.conv1.weight");
        assertEquals(NpyDType.F4, stem.dtype());
        assertArrayEquals(new long[] {16, 3, 3, 3}, stem.shape());
        assertArrayEquals(new long[] {10, 256}, st.tensor("head.fc.weight").shape());
        assertArrayEquals(new long[0], st.tensor("stages.2.0.skipinit_gain").shape()); // 0-d
        assertEquals(0, st.tensor("stages.2.0.skipinit_gain").toINDArray().rank());
        assertThrows(java.util.NoSuchElementException.class, () -> st.tensor("nope"));
    }

    @Test
    void sameValuesAsNpzUnderTimmNamesBitExact() throws IOException {
        Map<String, NpyArray> dm = Npz.read(micro("weights.npz"));
        SafetensorsFile st = Safetensors.read(micro("weights.safetensors"));

        // the two spelled out in the task: HWIO -> OIHW and (in, out) -> (out, in)
        INDArray stemHwio = dm.get("NFNet/~/stem_conv0/w").toINDArray();
        assertEquals(st.tensor("stem.conv1.weight"), NpyArray.fromINDArray(stemHwio.permute(3, 2, 0, 1)));
        INDArray fc = dm.get("NFNet/~/linear/w").toINDArray();
        assertEquals(st.tensor("head.fc.weight"), NpyArray.fromINDArray(fc.transpose()));

        // and every tensor of meta.json's parameter table
        JsonNode table = new ObjectMapper().readTree(micro("s64/meta.json").toFile()).get("parameter_table");
        assertEquals(114, table.size());
        for (JsonNode row : table) {
            String dmKey = row.get("dm_key").asText();
            String timmName = row.get("timm_name").asText();
            String kind = row.get("kind").asText();
            INDArray x = dm.get(dmKey).toINDArray();
            switch (kind) {
                case "conv_w":
                    x = x.permute(3, 2, 0, 1);
                    break;
                case "se_w":
                case "fc_w":
                    x = x.transpose();
                    break;
                default:
                    break; // gains, biases, skip gains: same values, other shape
            }
            long[] timmShape = new long[row.get("timm_shape").size()];
            for (int i = 0; i < timmShape.length; i++) {
                timmShape[i] = row.get("timm_shape").get(i).asLong();
            }
            NpyArray expected = new NpyArray(NpyDType.F4, timmShape, NpyArray.fromINDArray(x).data());
            assertEquals(expected, st.tensor(timmName), dmKey + " -> " + timmName);
        }
    }

    @Test
    void rewriteReproducesTheReferenceFileByteForByte() throws IOException {
        SafetensorsFile st = Safetensors.read(micro("weights.safetensors"));
        Path out = tmp.resolve("copy.safetensors");
        Safetensors.write(out, st);
        assertArrayEquals(Files.readAllBytes(micro("weights.safetensors")), Files.readAllBytes(out));
    }

    @Test
    void roundTripWithManyDtypesAndMetadata() throws IOException {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("z.weight", NpyArray.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
        m.put("a.skipinit_gain", NpyArray.ofFloats(new long[0], 0.5f));
        m.put("f64", NpyArray.ofDoubles(new long[] {2}, Math.E, -1e-310));
        m.put("i64", NpyArray.ofLongs(new long[] {1, 2}, Long.MIN_VALUE, 3));
        m.put("i32", NpyArray.ofInts(new long[] {1}, -1));
        m.put("mask", NpyArray.ofBooleans(new long[] {3}, false, true, true));
        m.put("bf16", new NpyArray(NpyDType.BF16, new long[] {2}, new byte[] {(byte) 0x80, 0x3f, 0x00, (byte) 0xc0}));
        m.put("f16", new NpyArray(NpyDType.F2, new long[] {1}, new byte[] {0x00, 0x3c}));
        m.put("u8", new NpyArray(NpyDType.U1, new long[] {2}, new byte[] {0, (byte) 255}));
        m.put("empty", NpyArray.ofFloats(new long[] {2, 0}));
        Map<String, String> meta = Map.of("format", "pt", "note", "ünïcödé");

        Path f = tmp.resolve("t.safetensors");
        Safetensors.write(f, m, meta);
        SafetensorsFile back = Safetensors.read(f);
        assertEquals(m, back.tensors());
        assertEquals(meta, back.metadata());
        List<String> names = new ArrayList<>(back.tensors().keySet());
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(null);
        assertEquals(sorted, names, "written sorted by name, read in data order");
        assertArrayEquals(new float[] {1f, -2f}, back.tensor("bf16").toFloatArray());

        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":"), header);
        assertTrue(header.contains("\"a.skipinit_gain\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}"), header);

        Path noMeta = tmp.resolve("nometa.safetensors");
        Safetensors.write(noMeta, Map.of("x", NpyArray.ofFloats(new long[] {1}, 1f)));
        SafetensorsFile nm = Safetensors.read(noMeta);
        assertTrue(nm.metadata().isEmpty());
        assertTrue(!new String(Files.readAllBytes(noMeta), StandardCharsets.UTF_8).contains("__metadata__"));
    }

    // ------------------------------------------------------------------ errors

    /** Builds a safetensors file from a header JSON (padded) and a data section. */
    private static byte[] file(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.writeBytes(h);
        for (int i = h.length; i < padded; i++) {
            out.write(' ');
        }
        out.writeBytes(new byte[dataBytes]);
        return out.toByteArray();
    }

    private TensorFormatException readFails(byte[] content) throws IOException {
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, content);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        return e;
    }

    private static void assertMentions(TensorFormatException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] full = Files.readAllBytes(micro("weights.safetensors"));
        TensorFormatException e = readFails(Arrays.copyOf(full, full.length - 1000));
        assertMentions(e, "extend beyond the data section", "truncated", "tensor '");
        e = readFails(Arrays.copyOf(full, 5000)); // cut inside the header
        assertMentions(e, "header length 10464 exceeds the file size (5000 bytes)");
        e = readFails(Arrays.copyOf(full, 5));
        assertMentions(e, "too few for the 8-byte header length");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        byte[] b = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        assertMentions(readFails(b), "header length 1099511627776 exceeds the file size");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertMentions(readFails(b), "header length 18446744073709551615 exceeds the file size");
    }

    @Test
    void overlappingOffsets() throws IOException {
        TensorFormatException e = readFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        assertMentions(e, "tensors 'a' [0, 8) and 'b' [4, 12) have overlapping data_offsets");
    }

    @Test
    void gapsAndTrailingBytes() throws IOException {
        assertMentions(readFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)),
                "tensor 'a' [4, 8) leaves a gap of 4 unused bytes");
        assertMentions(readFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12)),
                "8 bytes of data after the last tensor ('a')");
    }

    @Test
    void byteCountMustMatchShapeAndDtype() throws IOException {
        TensorFormatException e = readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20));
        assertMentions(e, "tensor 'w'", "span 20 bytes but shape (2, 3) of F32 needs 24");
    }

    @Test
    void unsupportedDtypeAndMalformedHeaders() throws IOException {
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)),
                "tensor 'w'", "unsupported dtype 'F8_E4M3'");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4)),
                "malformed header JSON");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)), "malformed header JSON", "w");
        assertMentions(readFails(file("[1, 2]", 0)), "the JSON must be an object");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)),
                "tensor 'w'", "\"shape\" must hold non-negative integers");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4)),
                "tensor 'w'", "\"data_offsets\" must be an array of 2");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)), "tensor 'w'", "data_offsets");
        assertMentions(readFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4)),
                "tensor 'w'", "unexpected field 'x'");
        assertMentions(readFails(file("{\"__metadata__\":{\"epoch\":3}}", 0)), "\"__metadata__\" value for 'epoch'");
        byte[] badUtf8 = file("{\"w\":1}", 0);
        badUtf8[10] = (byte) 0xff;
        assertMentions(readFails(badUtf8), "not valid UTF-8");
    }

    @Test
    void missingFile() {
        Path p = tmp.resolve("missing.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("no such .safetensors file"),
                e.getMessage());
    }

    @Test
    void invalidNamesAreRejectedOnWrite() {
        NpyArray one = NpyArray.ofFloats(new long[] {1}, 1f);
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(tmp.resolve("x.safetensors"), Map.of("__metadata__", one)));
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(tmp.resolve("x.safetensors"), Map.of("", one)));
        assertTrue(Files.notExists(tmp.resolve("x.safetensors")));
    }
}
