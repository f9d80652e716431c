package dev.nfnets.core.weights;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.io.Limits;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.NpyDType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Checks on a weight file's content that run before a model is built or a parameter is changed: the model a
 * config describes must fit in memory and match the file's tensors, every tensor loaded into a float parameter
 * must be a float tensor holding finite values, and a native file's data must match its checksum.
 */
public final class WeightChecks {
    /** Metadata key of a native file's data checksum (CRC-32C over every tensor's name, dtype, shape and bytes). */
    public static final String CHECKSUM_KEY = "data_crc32c";
    /**
     * Bytes per parameter a built model may need: value and gradient in float32 (training adds momentum and EMA
     * copies, which {@link #requireModelFits} does not assume; this bound is about refusing absurd configs).
     */
    static final long BYTES_PER_PARAMETER = 8;

    private WeightChecks() {
    }

    /**
     * Refuses a config whose parameters alone would need more memory than {@link Limits#maxModelBytes()}, computed
     * from the config without allocating anything.
     *
     * @param source where the config came from, for the message (a file, an option)
     */
    public static void requireModelFits(NFNetConfig config, String source) {
        long params = parameterCount(config, source);
        long limit = Limits.maxModelBytes();
        if (params > limit / BYTES_PER_PARAMETER) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: model config '%s' (stage widths %s, depths %s) has %,d parameters, needing at least %s; the limit is %s. "
                            + "Refusing to build it (raise -D%s=BYTES if it is genuine)", source, config.name(),
                    java.util.Arrays.toString(config.stageWidths()), java.util.Arrays.toString(config.stageDepths()), params,
                    Limits.bytes(saturatedMultiply(params, BYTES_PER_PARAMETER)), Limits.bytes(limit), Limits.MAX_MODEL_BYTES));
        }
    }

    /** The config's parameter count (from {@link ModelSummary}), with config errors naming {@code source}. */
    static long parameterCount(NFNetConfig config, String source) {
        try {
            return ModelSummary.of(config, Math.max(1, config.testSize())).totalParams();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException(source + ": invalid model config: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a file whose stored config describes another model than its tensors: the config's parameter count is
     * compared with the file's element count before the model is built (a small file whose metadata claims widths
     * of 65536 or a depth of 100000 is refused here, not built).
     */
    public static void requireConfigMatchesTensors(NFNetConfig config, Weights.WeightFile file) {
        String source = file.path().toString();
        requireModelFits(config, source);
        long expected = parameterCount(config, source);
        long stored = 0;
        for (NpyArray t : file.tensors().values()) {
            stored += t.elementCount();
        }
        if (stored != expected) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: the model config in its metadata ('%s', stage widths %s, depths %s) has %,d parameters but the file's %d "
                            + "tensors hold %,d values; the config or the tensors are damaged", source, config.name(),
                    java.util.Arrays.toString(config.stageWidths()), java.util.Arrays.toString(config.stageDepths()),
                    expected, file.tensors().size(), stored));
        }
    }

    /**
     * Every tensor named in {@code names} must be a floating-point tensor with finite values; all offenders are
     * listed together (up to 10). Integer or bool tensors are not converted silently: convert them to float first
     * (e.g. {@code numpy.astype(np.float32)}) if that is really meant.
     */
    public static void requireFloatAndFinite(String source, Map<String, NpyArray> tensors, Iterable<String> names) {
        List<String> problems = new ArrayList<>();
        int count = 0;
        for (String name : names) {
            NpyArray t = tensors.get(name);
            if (t == null) {
                continue;
            }
            String problem = null;
            if (!t.dtype().isFloatingPoint()) {
                problem = name + ": dtype " + t.dtype() + " for a float parameter (not converted; store it as float32)";
            } else {
                long bad = firstNonFinite(t);
                if (bad >= 0) {
                    problem = name + ": element " + bad + " is " + valueAt(t, bad) + " (non-finite)";
                }
            }
            if (problem != null) {
                count++;
                if (problems.size() < 10) {
                    problems.add(problem);
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + ": " + count + " tensor" + (count == 1 ? "" : "s")
                    + " cannot be loaded into float parameters:\n  " + String.join("\n  ", problems)
                    + (count > problems.size() ? "\n  ... and " + (count - problems.size()) + " more" : ""));
        }
    }

    /** Index of the first NaN or infinite element, or -1. */
    static long firstNonFinite(NpyArray t) {
        ByteBuffer b = t.buffer().order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype() == NpyDType.F4) {
            var f = b.asFloatBuffer();
            for (int i = 0; i < f.limit(); i++) {
                if (!Float.isFinite(f.get(i))) {
                    return i;
                }
            }
            return -1;
        }
        if (t.dtype() == NpyDType.F8) {
            var d = b.asDoubleBuffer();
            for (int i = 0; i < d.limit(); i++) {
                if (!Double.isFinite(d.get(i))) {
                    return i;
                }
            }
            return -1;
        }
        float[] f = t.toFloatArray();
        for (int i = 0; i < f.length; i++) {
            if (!Float.isFinite(f[i])) {
                return i;
            }
        }
        return -1;
    }

    private static String valueAt(NpyArray t, long index) {
        return Double.toString(t.toDoubleArray()[(int) index]);
    }

    /** The checksum stored in native files: CRC-32C over the tensors in name order (name, dtype, shape, bytes). */
    public static String checksum(Map<String, ? extends NpyArray> tensors) {
        CRC32C crc = new CRC32C();
        for (Map.Entry<String, ? extends NpyArray> e : new TreeMap<String, NpyArray>(tensors).entrySet()) {
            NpyArray t = e.getValue();
            crc.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            crc.update(0);
            crc.update(t.dtype().name().getBytes(StandardCharsets.UTF_8));
            for (long d : t.shape()) {
                crc.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, d));
            }
            crc.update(t.buffer());
        }
        return String.format(Locale.ROOT, "%08x", crc.getValue());
    }

    private static long saturatedMultiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
