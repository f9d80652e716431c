package dev.nfnets.core.io;

import dev.nfnets.layers.NFNetsOptions;

/**
 * Upper bounds on what a file may make this library allocate, so that a small crafted or damaged file (a zip bomb,
 * a decompression-bomb image, a config that declares huge widths) is refused with a clear error instead of
 * exhausting the machine. Each bound is an option of {@link NFNetsOptions} ({@code -Dnfnets.maxImagePixels=400000000},
 * {@code NFNETS_MAX_IMAGE_PIXELS}, or through {@code NFNETS_JAVA_OPTS} for the launcher), so it can be raised for a
 * real workload; code that reads files for a model with other options applies them around the reads with
 * {@link #use(NFNetsOptions)}.
 *
 * <table>
 * <caption>bounds</caption>
 * <tr><th>option</th><th>default</th><th>what</th></tr>
 * <tr><td>{@code nfnets.maxTensorBytes}</td><td>3/4 of the Java heap (the tensors are read into it)</td><td>total
 * (inflated) bytes of the tensors of one weight, checkpoint or .npz file; F7's float32 weights are 1.5 GB</td></tr>
 * <tr><td>{@code nfnets.maxImagePixels}</td><td>100,000,000</td><td>width x height of one image, checked from its
 * header before decoding</td></tr>
 * <tr><td>{@code nfnets.maxModelBytes}</td><td>JavaCPP's native memory limit (else 16 GiB)</td><td>estimated parameter
 * memory of a model built from a config (value, gradient, momentum and EMA copies)</td></tr>
 * </table>
 *
 * <pre>{@code
 * try (Limits.Scope s = Limits.use(NFNetsOptions.defaults().toBuilder().maxImagePixels(400_000_000L).build())) {
 *     BufferedImage big = Images.read(path);
 * }
 * }</pre>
 */
public final class Limits {
    public static final String MAX_TENSOR_BYTES = NFNetsOptions.PREFIX + "maxTensorBytes";
    public static final String MAX_IMAGE_PIXELS = NFNetsOptions.PREFIX + "maxImagePixels";
    public static final String MAX_MODEL_BYTES = NFNetsOptions.PREFIX + "maxModelBytes";
    private static final ThreadLocal<NFNetsOptions> SCOPED = new ThreadLocal<>();

    private Limits() {
    }

    /** Restores the bounds that applied before {@link #use(NFNetsOptions)}. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Applies {@code options}' bounds to this thread's reads until the returned scope is closed. */
    public static Scope use(NFNetsOptions options) {
        NFNetsOptions previous = SCOPED.get();
        SCOPED.set(java.util.Objects.requireNonNull(options, "options"));
        return () -> {
            if (previous == null) {
                SCOPED.remove();
            } else {
                SCOPED.set(previous);
            }
        };
    }

    private static NFNetsOptions options() {
        NFNetsOptions o = SCOPED.get();
        return o != null ? o : NFNetsOptions.defaults();
    }

    /** Total inflated bytes allowed for the tensors of one file. */
    public static long maxTensorBytes() {
        long v = options().maxTensorBytes();
        return v > 0 ? v : Runtime.getRuntime().maxMemory() / 4 * 3;
    }

    /** Pixels (width x height) allowed for one image. */
    public static long maxImagePixels() {
        long v = options().maxImagePixels();
        return v > 0 ? v : Long.MAX_VALUE;
    }

    /** Bytes allowed for the estimated parameter memory of one model. */
    public static long maxModelBytes() {
        long v = options().maxModelBytes();
        if (v > 0) {
            return v;
        }
        long fallback = 16L << 30;
        try {
            long native_ = org.bytedeco.javacpp.Pointer.maxPhysicalBytes();
            long bytes = org.bytedeco.javacpp.Pointer.maxBytes();
            long cap = native_ > 0 ? native_ : bytes > 0 ? bytes : fallback;
            fallback = Math.max(cap, 1L << 30);
        } catch (LinkageError e) {
            // JavaCPP not on the class path: keep the fixed default
        }
        return fallback;
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
