package dev.nfnets.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Protects a training run folder: {@link #requireFresh} refuses to start a new run in a folder that already holds
 * a run's checkpoint or weights (they would be replaced) unless resuming or overwriting is asked for, and
 * {@link #lock} holds an exclusive lock on {@code .lock} in the folder while training, so a second trainer on the
 * same folder is refused, naming the first one's process id. The lock is an operating-system file lock: it goes
 * away with its process however that ends ({@code kill -9} included), so a lock file left by a dead process is
 * simply taken over.
 *
 * <pre>{@code
 * RunFolder.requireFresh(dir, resuming, overwrite);
 * try (RunFolder.Lock lock = RunFolder.lock(dir)) {
 *     trainer.fit();
 * }
 * }</pre>
 */
public final class RunFolder {
    private static final Logger LOG = LoggerFactory.getLogger(RunFolder.class);
    public static final String LOCK_FILE = ".lock";
    /** The files of a run that a new run in the same folder would replace or mix with its own. */
    public static final List<String> RUN_FILES = List.of(Trainer.CHECKPOINT_FILE, Trainer.WEIGHTS_FILE);

    private RunFolder() {
    }

    /**
     * Fails, naming the folder and the files, when {@code dir} holds a previous run's checkpoint or weights and the
     * caller neither resumes from it nor asked to overwrite; with {@code overwrite} those files are deleted first.
     */
    public static void requireFresh(Path dir, boolean resuming, boolean overwrite) throws IOException {
        if (resuming || !Files.isDirectory(dir)) {
            return;
        }
        List<String> present = new ArrayList<>();
        for (String f : RUN_FILES) {
            if (Files.exists(dir.resolve(f))) {
                present.add(f);
            }
        }
        if (present.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("run folder " + dir + " already holds a run (" + String.join(", ", present)
                    + "); pass --resume " + dir + " to continue it, --overwrite to replace it, or another --run-dir");
        }
        for (String f : present) {
            Files.delete(dir.resolve(f));
        }
        LOG.warn("--overwrite: deleted {} in {}; its metrics files start afresh", present, dir);
    }

    /** An acquired lock; closing releases it and deletes the lock file. */
    public static final class Lock implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(Path file, FileChannel channel, FileLock lock) {
            this.file = file;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                Files.deleteIfExists(file);
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /**
     * Locks {@code dir} (created if needed) for this process.
     *
     * @throws IllegalStateException naming the holder's process id when another trainer holds the folder
     */
    public static Lock lock(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(LOCK_FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;   // held by this very process
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        String previous = readHolder(ch);
        if (lock == null) {
            ch.close();
            throw new IllegalStateException("run folder " + dir + " is in use by another trainer (process " + previous
                    + (previous.equals(Long.toString(ProcessHandle.current().pid())) ? ", this one" : "")
                    + "; lock file " + file + "); wait for it to finish or stop it first");
        }
        if (!previous.isEmpty() && !previous.equals("unknown")) {
            LOG.warn("{}: taking over the lock left by process {}, which is no longer running", file, previous);
        }
        byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(pid), 0);
        ch.force(false);
        return new Lock(file, ch, lock);
    }

    private static String readHolder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64);
        int n = ch.read(b, 0);
        if (n <= 0) {
            return "unknown";
        }
        String s = new String(b.array(), 0, n, StandardCharsets.US_ASCII).trim();
        return s.isEmpty() ? "unknown" : s;
    }
}
