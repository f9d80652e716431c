package dev.nfnets.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path tmp;

    /** A hand-made idx3 file: 2 images of 2x3, written byte by byte. */
    private static byte[] handMadeIdx3() {
        return new byte[] {
            0, 0, 0x08, 3,          // magic: ubyte, rank 3
            0, 0, 0, 2,             // 2 items
            0, 0, 0, 2,             // 2 rows
            0, 0, 0, 3,             // 3 cols
            1, 2, 3, 4, 5, 6,
            (byte) 200, (byte) 255, 0, 7, 8, 9
        };
    }

    @Test
    void readsHandMadePlainAndGzippedFiles() throws IOException {
        Path plain = tmp.resolve("images-idx3-ubyte");
        Files.write(plain, handMadeIdx3());
        Idx.UbyteArray a = Idx.read(plain);
        assertArrayEquals(new int[] {2, 2, 3}, a.dims());
        assertEquals(2, a.count());
        assertEquals(6, a.itemSize());
        assertEquals(200, a.data()[6] & 0xff);
        assertEquals(255, a.data()[7] & 0xff);

        // gzip detected by magic, whatever the name
        Path gz = tmp.resolve("no-extension");
        Idx.write(gz, a, true);
        byte[] raw = Files.readAllBytes(gz);
        assertEquals(0x1f, raw[0] & 0xff);
        assertEquals(0x8b, raw[1] & 0xff);
        Idx.UbyteArray b = Idx.read(gz);
        assertArrayEquals(a.dims(), b.dims());
        assertArrayEquals(a.data(), b.data());

        // plain write reproduces the hand-made bytes exactly
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Idx.write(out, a, false);
        assertArrayEquals(handMadeIdx3(), out.toByteArray());
    }

    @Test
    void readsLabelledPair() throws IOException {
        Path img = tmp.resolve("i.gz");
        Path lab = tmp.resolve("l.gz");
        Idx.write(img, new Idx.UbyteArray(new int[] {3, 1, 2}, new byte[] {1, 2, 3, 4, 5, 6}), true);
        Idx.write(lab, new Idx.UbyteArray(new int[] {3}, new byte[] {0, 9, 4}), true);
        Idx.Labelled pair = Idx.readLabelled(img, lab, 10);
        assertEquals(3, pair.count());
        assertArrayEquals(new byte[] {0, 9, 4}, pair.labels());
    }

    @Test
    void truncatedFileNamesTheFile() throws IOException {
        byte[] full = handMadeIdx3();
        Path cut = tmp.resolve("cut-idx3-ubyte");
        Files.write(cut, Arrays.copyOf(full, full.length - 4));
        IOException e = assertThrows(IOException.class, () -> Idx.read(cut));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        // a gzip stream cut in the middle is reported the same way
        Path gz = tmp.resolve("cut.gz");
        Idx.write(gz, new Idx.UbyteArray(new int[] {1000}, new byte[1000]), true);
        byte[] g = Files.readAllBytes(gz);
        Files.write(gz, Arrays.copyOf(g, g.length / 2));
        IOException e2 = assertThrows(IOException.class, () -> Idx.read(gz));
        assertTrue(e2.getMessage().contains(gz.toString()), e2.getMessage());

        // header cut short
        Path head = tmp.resolve("head");
        Files.write(head, Arrays.copyOf(full, 10));
        IOException e3 = assertThrows(IOException.class, () -> Idx.read(head));
        assertTrue(e3.getMessage().contains("truncated IDX header"), e3.getMessage());
    }

    @Test
    void badMagicAndCountMismatchAreReported() throws IOException {
        Path bad = tmp.resolve("bad");
        Files.write(bad, new byte[] {1, 2, 3, 4, 0, 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> Idx.read(bad));
        assertTrue(e.getMessage().contains("bad IDX magic") && e.getMessage().contains(bad.toString()), e.getMessage());

        Path floats = tmp.resolve("floats");
        Files.write(floats, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 0});
        IOException ef = assertThrows(IOException.class, () -> Idx.read(floats));
        assertTrue(ef.getMessage().contains("unsupported IDX data type 0x0d"), ef.getMessage());

        Path img = tmp.resolve("img");
        Path lab = tmp.resolve("lab");
        Idx.write(img, new Idx.UbyteArray(new int[] {2, 1, 1}, new byte[] {1, 2}), false);
        Idx.write(lab, new Idx.UbyteArray(new int[] {3}, new byte[] {0, 1, 2}), false);
        IOException e2 = assertThrows(IOException.class, () -> Idx.readLabelled(img, lab, 10));
        assertTrue(e2.getMessage().contains("count mismatch") && e2.getMessage().contains(img.toString())
                && e2.getMessage().contains(lab.toString()), e2.getMessage());

        Path lab2 = tmp.resolve("lab2");
        Idx.write(lab2, new Idx.UbyteArray(new int[] {2}, new byte[] {0, 12}), false);
        IOException e3 = assertThrows(IOException.class, () -> Idx.readLabelled(img, lab2, 10));
        assertTrue(e3.getMessage().contains("out of range"), e3.getMessage());
    }
}
