package dev.nfnets.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void createsAndReplaces() throws IOException {
        Path f = dir.resolve("state.txt");
        AtomicFiles.write(f, "one".getBytes(StandardCharsets.UTF_8));
        assertEquals("one", Files.readString(f));
        AtomicFiles.write(f, out -> {
            out.write("two".getBytes(StandardCharsets.UTF_8));
            out.close(); // closing inside the body is harmless
        });
        assertEquals("two", Files.readString(f));
        assertEquals(List.of("state.txt"), names());
    }

    @Test
    void failingBodyLeavesOldContentAndNoTempFile() throws IOException {
        Path f = dir.resolve("checkpoint.bin");
        Files.writeString(f, "old content");
        IOException boom = new IOException("disk on fire");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[200_000]); // more than the buffer: the temp file really has data
            throw boom;
        }));
        assertSame(boom, thrown);
        assertEquals("old content", Files.readString(f));
        assertEquals(List.of("checkpoint.bin"), names());

        IllegalStateException unchecked = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f,
                (OutputStream out) -> {
                    out.write(1);
                    throw new IllegalStateException("bug");
                }));
        assertEquals("bug", unchecked.getMessage());
        assertEquals("old content", Files.readString(f));
        assertEquals(List.of("checkpoint.bin"), names());
    }

    @Test
    void failingBodyWithoutExistingTargetCreatesNothing() throws IOException {
        Path f = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            throw new IOException("nope");
        }));
        assertTrue(names().isEmpty());
    }

    @Test
    void missingDirectoryIsAClearError() {
        Path f = dir.resolve("no/such/dir/file.bin");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, new byte[1]));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void targetThatIsADirectoryIsRejected() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(sub, new byte[1]));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertEquals(List.of("sub"), names());
    }

    @Test
    void relativePathsWork() throws IOException {
        Path f = dir.resolve("r.txt");
        Path relative = Path.of("").toAbsolutePath().relativize(f);
        AtomicFiles.write(relative, "x".getBytes(StandardCharsets.UTF_8));
        assertEquals("x", Files.readString(f));
    }
}
