package dev.nfnets.train.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process from {@code /proc/self/status} (Linux; -1 elsewhere). */
public final class ProcStatus {
    private static final Logger LOG = LoggerFactory.getLogger(ProcStatus.class);

    private ProcStatus() {
    }

    /**
     * {@code {peak, current}} resident memory in bytes from one read of {@code /proc/self/status}
     * ({@code VmHWM}, {@code VmRSS}; the peak is at least the current value), or {@code {-1, -1}} where unavailable.
     */
    public static long[] readMemory() {
        String status = readStatus();
        long rss = statusField(status, "VmRSS");
        long hwm = statusField(status, "VmHWM");
        return new long[] {hwm < 0 ? -1 : Math.max(hwm, rss), rss};
    }

    /**
     * A field of {@code /proc/self/status} given in kB (e.g. {@code VmHWM}, {@code VmRSS}), in bytes; -1 where
     * the file or field does not exist (not Linux).
     */
    public static long readStatusBytes(String field) {
        return statusField(readStatus(), field);
    }

    private static String readStatus() {
        Path p = Path.of("/proc/self/status");
        if (!Files.isReadable(p)) {
            return "";
        }
        try {
            return Files.readString(p, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read {}", p, e);
            return "";
        }
    }

    private static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field + ":")) {
                try {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    long v = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                } catch (RuntimeException e) {
                    LOG.debug("cannot parse '{}'", line, e);
                    return -1;
                }
            }
        }
        return -1;
    }
}
