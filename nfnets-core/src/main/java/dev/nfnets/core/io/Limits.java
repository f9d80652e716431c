package dev.nfnets.core.io;

/**
 * Upper bounds on what a file may make this library allocate, so that a small crafted or damaged file (a zip bomb,
 * a decompression-bomb image, a config that declares huge widths) is refused with a clear error instead of
 * exhausting the machine. Each bound is a system property, read at each check, so it can be raised for a real
 * workload ({@code -Dnfnets.maxImagePixels=400000000}, or through {@code NFNETS_JAVA_OPTS} for the launcher).
 *
 * <table>
 * <caption>bounds</caption>
 * <tr><th>property</th><th>default</th><th>what</th></tr>
 * <tr><td>{@code nfnets.maxTensorBytes}</td><td>3/4 of the Java heap (the tensors are read into it)</td><td>total
 * (inflated) bytes of the tensors of one weight, checkpoint or .npz file; F7's float32 weights are 1.5 GB</td></tr>
 * <tr><td>{@code nfnets.maxImagePixels}</td><td>100,000,000</td><td>width x height of one image, checked from its
 * header before decoding</td></tr>
 * <tr><td>{@code nfnets.maxModelBytes}</td><td>JavaCPP's native memory limit (else 16 GiB)</td><td>estimated parameter
 * memory of a model built from a config (value, gradient, momentum and EMA copies)</td></tr>
 * </table>
 */
public final class Limits {
    public static final String MAX_TENSOR_BYTES = "nfnets.maxTensorBytes";
    public static final String MAX_IMAGE_PIXELS = "nfnets.maxImagePixels";
    public static final String MAX_MODEL_BYTES = "nfnets.maxModelBytes";

    private Limits() {
    }

    /** Total inflated bytes allowed for the tensors of one file. */
    public static long maxTensorBytes() {
        return property(MAX_TENSOR_BYTES, Runtime.getRuntime().maxMemory() / 4 * 3);
    }

    /** Pixels (width x height) allowed for one image. */
    public static long maxImagePixels() {
        return property(MAX_IMAGE_PIXELS, 100_000_000L);
    }

    /** Bytes allowed for the estimated parameter memory of one model. */
    public static long maxModelBytes() {
        long fallback = 16L << 30;
        try {
            long native_ = org.bytedeco.javacpp.Pointer.maxPhysicalBytes();
            long bytes = org.bytedeco.javacpp.Pointer.maxBytes();
            long cap = native_ > 0 ? native_ : bytes > 0 ? bytes : fallback;
            fallback = Math.max(cap, 1L << 30);
        } catch (LinkageError e) {
            // JavaCPP not on the class path: keep the fixed default
        }
        return property(MAX_MODEL_BYTES, fallback);
    }

    private static long property(String name, long fallback) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim().replace("_", ""));
            if (n <= 0) {
                throw new NumberFormatException("not positive");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " must be a positive whole number, got '" + v + "'");
        }
    }

    /** Human-readable bytes, e.g. {@code 6.3 GiB}. */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
