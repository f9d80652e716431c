package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The format of a tensor file comes from its first bytes, whatever its name. */
class TensorFileKindTest {
    @Test
    void filesAreToldApartByContentNotName(@TempDir Path dir) throws IOException {
        Map<String, NpyArray> one = new LinkedHashMap<>();
        one.put("a", NpyArray.ofFloats(new long[] {2}, 1f, 2f));
        Path npz = dir.resolve("weights.safetensors");        // deliberately misnamed
        Npz.write(npz, one);
        assertEquals(TensorFileKind.NPZ, TensorFileKind.sniff(npz));
        Path st = dir.resolve("weights.npz");
        Safetensors.write(st, one, Map.of());
        assertEquals(TensorFileKind.SAFETENSORS, TensorFileKind.sniff(st));
        Path npy = dir.resolve("a.bin");
        Npy.write(npy, one.get("a"));
        assertEquals(TensorFileKind.NPY, TensorFileKind.sniff(npy));
        Path pkl = Files.write(dir.resolve("p"), new byte[] {(byte) 0x80, 4, '}', '.'});
        assertEquals(TensorFileKind.PICKLE, TensorFileKind.sniff(pkl));
        Path proto1 = Files.write(dir.resolve("p1"), new byte[] {(byte) 0x80, 1, '}', '.'});
        assertEquals(TensorFileKind.UNKNOWN, TensorFileKind.sniff(proto1));
        Path text = Files.write(dir.resolve("t.npz"), "hello world, not a tensor".getBytes(StandardCharsets.US_ASCII));
        assertEquals(TensorFileKind.UNKNOWN, TensorFileKind.sniff(text));
        assertEquals(TensorFileKind.UNKNOWN, TensorFileKind.sniff(Files.write(dir.resolve("empty"), new byte[0])));
        IOException d = assertThrows(IOException.class, () -> TensorFileKind.sniff(dir));
        assertTrue(d.getMessage().contains("directory"), d.getMessage());
    }
}
