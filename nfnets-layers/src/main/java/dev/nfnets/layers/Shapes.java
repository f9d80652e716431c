package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/** Shape checks done in Java, before native code sees the arrays. A -1 in an expected shape matches any size. */
public final class Shapes {
    private Shapes() {
    }

    public static void check(String layer, String what, INDArray x, long[] expected) {
        if (x == null) {
            throw new IllegalArgumentException("layer '" + layer + "': " + what + " is null");
        }
        check(layer, what, x.shape(), expected);
    }

    public static void check(String layer, String what, long[] actual, long[] expected) {
        boolean ok = actual.length == expected.length;
        for (int i = 0; ok && i < actual.length; i++) {
            ok = expected[i] < 0 || expected[i] == actual[i];
        }
        if (!ok) {
            throw new ShapeException(layer, what, expected, actual);
        }
    }

    /** Renders a shape with -1 shown as '?'. */
    /**
     * True when {@code a} covers its whole buffer from offset 0 with element-wise stride 1, in c order when it has
     * more than one dimension: its elements can be read as one flat run (host copies, buffer loops, GEMM views).
     */
    public static boolean wholeInCOrder(INDArray a) {
        return a.offset() == 0 && a.data().length() == a.length() && a.elementWiseStride() == 1
                && (a.rank() <= 1 || a.ordering() == 'c');
    }

    public static String str(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
        }
        return sb.append(']').toString();
    }

    /** A copy of {@code shape} with the first (batch) dimension replaced. */
    public static long[] withBatch(long batch, long... rest) {
        long[] s = new long[rest.length + 1];
        s[0] = batch;
        System.arraycopy(rest, 0, s, 1, rest.length);
        return s;
    }

    /** Thrown when an array does not have the shape a layer expects. */
    public static final class ShapeException extends IllegalArgumentException {
        public ShapeException(String layer, String what, long[] expected, long[] actual) {
            super(message(layer, what, expected, actual));
        }

        private static String message(String layer, String what, long[] expected, long[] actual) {
            String msg = "layer '" + layer + "': " + what + " has shape " + Arrays.toString(actual)
                    + " but expected " + str(expected);
            if (expected.length == 4 && actual.length == 4 && expected[1] > 0
                    && actual[3] == expected[1] && actual[1] != expected[1]) {
                msg += " (the channel count sits in the last dimension: was the input NHWC? layers expect NCHW)";
            }
            return msg;
        }
    }
}
