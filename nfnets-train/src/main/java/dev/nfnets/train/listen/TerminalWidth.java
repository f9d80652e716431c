package dev.nfnets.train.listen;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The width of the terminal in columns: {@code $COLUMNS} if set, else {@code stty size} on {@code /dev/tty}, else 80. */
final class TerminalWidth {
    static final int DEFAULT = 80;

    private TerminalWidth() {
    }

    static int columns() {
        Integer env = parse(dev.nfnets.layers.NFNetsOptions.Process.env("COLUMNS"));
        if (env != null) {
            return env;
        }
        File tty = new File("/dev/tty");
        if (!tty.canRead()) {
            return DEFAULT;
        }
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(tty).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return DEFAULT;
            }
            String[] rowsCols = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+");
            Integer cols = rowsCols.length == 2 ? parse(rowsCols[1]) : null;
            return cols == null ? DEFAULT : cols;
        } catch (java.io.IOException e) {
            return DEFAULT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return DEFAULT;
        }
    }

    /** A positive column count, or null. */
    static Integer parse(String s) {
        if (s == null) {
            return null;
        }
        try {
            int v = Integer.parseInt(s.trim());
            return v > 0 ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
