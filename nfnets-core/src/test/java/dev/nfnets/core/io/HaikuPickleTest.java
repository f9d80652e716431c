package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DeepMind Haiku params pickles (made by fixtures/haiku-pickle/make_pickles.py from the micro fixture's weights.npz). */
class HaikuPickleTest {
    static Path pickle(String name) {
        try {
            return Path.of(HaikuPickleTest.class.getResource("/fixtures/haiku-pickle/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource fixtures/haiku-pickle/" + name + " is missing", e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"micro_p3_haiku.npz", "micro_p4_haiku.npz"})
    void fullPicklesEqualTheNpzOfTheSameWeights(String name) throws IOException {
        Map<String, NpyArray> npz = Npz.read(IoFixtures.micro("weights.npz"));
        Map<String, NpyArray> pkl = HaikuPickle.read(pickle(name));
        assertEquals(114, npz.size());
        assertEquals(new ArrayList<>(npz.keySet()), new ArrayList<>(pkl.keySet()));
        for (Map.Entry<String, NpyArray> e : npz.entrySet()) {
            assertEquals(e.getValue(), pkl.get(e.getKey()), e.getKey());
        }
        assertEquals(TensorFileKind.PICKLE, TensorFileKind.sniff(pickle(name)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"small_p2_haiku.npz", "small_p5_haiku.npz"})
    void protocolsTwoAndFiveReadTheSameArrays(String name) throws IOException {
        Map<String, NpyArray> npz = Npz.read(IoFixtures.micro("weights.npz"));
        Map<String, NpyArray> pkl = HaikuPickle.read(pickle(name));
        assertEquals(List.of("NFNet/~/stem_conv0/w", "NFNet/~/stem_conv0/gain", "NFNet/~/stem_conv0/bias",
                "NFNet/~/stem_conv1/w", "NFNet/~/stem_conv1/gain", "NFNet/~/stem_conv1/bias"), new ArrayList<>(pkl.keySet()));
        for (Map.Entry<String, NpyArray> e : pkl.entrySet()) {
            assertEquals(npz.get(e.getKey()), e.getValue(), e.getKey());
        }
    }

    @Test
    void bigEndianFortranFloat64AndScalarArrays() throws IOException {
        Map<String, NpyArray> a = HaikuPickle.read(pickle("odd_p4_haiku.npz"));
        float[] sixFloats = {0, 1, 2, 3, 4, 5};
        assertArrayEquals(new long[] {2, 3}, a.get("odd/be").shape());
        assertArrayEquals(sixFloats, a.get("odd/be").toFloatArray());
        assertArrayEquals(sixFloats, a.get("odd/fortran").toFloatArray());
        assertEquals(NpyDType.F8, a.get("odd/f64").dtype());
        assertArrayEquals(new double[] {0.5, -1.25}, a.get("odd/f64").toDoubleArray());
        assertEquals(0, a.get("odd/scalar").rank());
        assertEquals(2.5f, a.get("odd/scalar").toFloatArray()[0]);
    }

    @Test
    void aForeignGlobalIsRefusedByName() {
        TensorFormatException e = assertThrows(TensorFormatException.class,
                () -> HaikuPickle.read(pickle("hostile_posix_system.pkl")));
        assertTrue(e.getMessage().contains("refused global posix.system"), e.getMessage());
        assertTrue(e.getMessage().contains("hostile_posix_system.pkl"), e.getMessage());
    }

    @Test
    void aLengthBeyondTheFileIsRefusedBeforeAllocating() {
        TensorFormatException e = assertThrows(TensorFormatException.class,
                () -> HaikuPickle.read(pickle("hostile_2gb_length.pkl")));
        assertTrue(e.getMessage().contains("BINBYTES8 declares 2147483648 bytes"), e.getMessage());
    }

    @Test
    void aTruncatedPickleIsAClearError() {
        TensorFormatException e = assertThrows(TensorFormatException.class,
                () -> HaikuPickle.read(pickle("truncated_p4_haiku.npz")));
        assertTrue(e.getMessage().contains("truncated_p4_haiku.npz") && (e.getMessage().contains("truncated")
                || e.getMessage().contains("left in the file")), e.getMessage());
    }

    @Test
    void otherRefusals(@TempDir Path dir) throws IOException {
        // builtins.eval through GLOBAL (protocol 2)
        Path eval = dir.resolve("eval.pkl");
        Files.write(eval, bytes("\u0080\u0002cbuiltins\neval\nX\u0004\u0000\u0000\u00001+1\u0085R."));
        assertTrue(assertThrows(TensorFormatException.class, () -> HaikuPickle.read(eval)).getMessage()
                .contains("refused global builtins.eval"));
        // NEWOBJ is not interpreted
        Path newobj = dir.resolve("newobj.pkl");
        Files.write(newobj, bytes("\u0080\u0004cnumpy\nndarray\n)\u0081."));
        assertTrue(assertThrows(TensorFormatException.class, () -> HaikuPickle.read(newobj)).getMessage()
                .contains("NEWOBJ"));
        // a pickle of a plain list is not a params mapping
        Path list = dir.resolve("list.pkl");
        Files.write(list, bytes("\u0080\u0004]."));
        assertTrue(assertThrows(TensorFormatException.class, () -> HaikuPickle.read(list)).getMessage()
                .contains("not a mapping"));
        // a float cut off mid-way is a truncated file, not an EOFException
        Path cut = dir.resolve("cut.pkl");
        Files.write(cut, bytes("\u0080\u0004}\u008c\u0001aG?\u00f8"));
        assertTrue(assertThrows(TensorFormatException.class, () -> HaikuPickle.read(cut)).getMessage()
                .contains("truncated"));
        // a non-array leaf is named
        Path leaf = dir.resolve("leaf.pkl");
        Files.write(leaf, bytes("\u0080\u0004}\u008c\u0001aK\u0001s."));
        assertTrue(assertThrows(TensorFormatException.class, () -> HaikuPickle.read(leaf)).getMessage()
                .contains("'a' holds a int"));
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
