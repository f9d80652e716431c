package dev.nfnets.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * Crash-safe file replacement: readers of {@code target} see either the complete old content or the complete new
 * content, never a partial file, even if the JVM or the machine dies mid-write.
 *
 * <p>{@link #write(Path, IOConsumer)}:
 * <ol>
 *   <li>creates a hidden temporary file {@code .<name>.<random>.tmp} in the target's directory (same file system, so
 *       the final rename is atomic; created with the process's default permissions, like a plain new file);</li>
 *   <li>runs {@code body} on a buffered stream to it; closing that stream inside the body is harmless;</li>
 *   <li>flushes and fsyncs the file ({@link FileChannel#force(boolean)});</li>
 *   <li>renames it over {@code target} with {@link StandardCopyOption#ATOMIC_MOVE} and
 *       {@link StandardCopyOption#REPLACE_EXISTING} (falling back, with a warning, to a plain replacing move only on
 *       file systems that cannot rename atomically);</li>
 *   <li>fsyncs the directory so the rename itself is durable, where the OS allows it (POSIX; failures are ignored,
 *       e.g. on Windows).</li>
 * </ol>
 * If the body or any step before the rename throws (including unchecked exceptions), the temporary file is deleted,
 * the exception propagates, and an existing {@code target} is left untouched. The parent directory must exist.
 * If {@code target} is a symbolic link, the link itself is replaced by a regular file.
 *
 * <p>Concurrent writers to the same target do not corrupt it (each uses its own temporary file); the last rename wins.
 *
 * <pre>{@code
 * AtomicFiles.write(dir.resolve("checkpoint.npz"), out -> {
 *     out.write(header);
 *     out.write(payload);
 * });
 * AtomicFiles.write(dir.resolve("state.json"), "{\"step\": 10}".getBytes(StandardCharsets.UTF_8));
 * }</pre>
 */
public final class AtomicFiles {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BUFFER_SIZE = 1 << 16;
    /** Keeps temp names within the usual 255-byte file name limit. */
    private static final int MAX_NAME_PREFIX = 120;

    private AtomicFiles() {
    }

    /**
     * Atomically replaces (or creates) {@code target} with what {@code body} writes.
     *
     * @param target the file to write; its parent directory must exist
     * @param body   writes the complete new content to the stream it is given
     * @throws IOException when the body or any file operation fails; {@code target} is then unchanged
     */
    public static void write(Path target, IOConsumer<? super OutputStream> body) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(body, "body");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path fileName = abs.getFileName();
        if (dir == null || fileName == null) {
            throw new IOException(target + ": not a file path");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException(target + ": cannot write, the directory " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new IOException(target + ": is a directory");
        }
        Path tmp = createTempFile(dir, fileName.toString());
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER_SIZE);
                body.accept(new CloseShield(buffered));
                buffered.flush();
                channel.force(true);
            }
            move(tmp, abs);
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("could not delete temporary file {}: {}", tmp, e.toString());
                }
            }
        }
        fsyncDirectory(dir);
    }

    /**
     * Atomically replaces (or creates) {@code target} with {@code bytes}.
     *
     * @param target the file to write; its parent directory must exist
     * @param bytes  the complete new content
     * @throws IOException when writing fails; {@code target} is then unchanged
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        write(target, out -> out.write(bytes));
    }

    private static Path createTempFile(Path dir, String name) throws IOException {
        String prefix = "." + (name.length() > MAX_NAME_PREFIX ? name.substring(0, MAX_NAME_PREFIX) : name) + ".";
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(prefix + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE) + ".tmp");
            try {
                // CREATE_NEW with no attributes: the OS default mode (umask), unlike Files.createTempFile's 0600
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            LOG.warn("{}: the file system cannot rename atomically; replacing the file non-atomically", target);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes a rename in {@code dir} durable; not possible on every OS (Windows), so failures are only logged. */
    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            LOG.debug("directory fsync not supported for {}: {}", dir, e.toString());
        }
    }

    /** Lets the body close "its" stream without closing the channel before the fsync. */
    private static final class CloseShield extends FilterOutputStream {
        CloseShield(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
