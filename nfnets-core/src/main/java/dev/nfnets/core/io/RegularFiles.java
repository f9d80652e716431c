package dev.nfnets.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Checks that a path given as an input file is an ordinary file before it is opened: a directory, a named pipe
 * (whose read would block until some other process writes to it), a socket or a device is refused with an error
 * that says what the path is instead.
 */
public final class RegularFiles {
    private RegularFiles() {
    }

    /**
     * @param file the path
     * @param what what the file should be, for the message, e.g. {@code "weight file"} or {@code "image"}
     * @throws NoSuchFileException when nothing exists at the path
     * @throws IOException         when it exists but is not a regular file (the message names its kind)
     */
    public static void require(Path file, String what) throws IOException {
        if (Files.isRegularFile(file)) {
            return;
        }
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": is a directory, not " + article(what) + " " + what);
        }
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such " + what);
        }
        throw new IOException(file + ": is not a regular file (" + kindOf(file) + "), not " + article(what) + " " + what
                + "; a named pipe or device is not read, so the command cannot block on it");
    }

    private static String article(String what) {
        return !what.isEmpty() && "aeiouAEIOU.".indexOf(what.charAt(0)) >= 0 ? "an" : "a";
    }

    private static String kindOf(Path file) {
        try {
            Object mode = Files.getAttribute(file, "unix:mode");
            if (mode instanceof Integer m) {
                return switch (m & 0170000) {
                    case 0010000 -> "a named pipe";
                    case 0140000 -> "a socket";
                    case 0020000 -> "a character device";
                    case 0060000 -> "a block device";
                    default -> "a special file";
                };
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // fall through
        }
        return "a special file";
    }
}
