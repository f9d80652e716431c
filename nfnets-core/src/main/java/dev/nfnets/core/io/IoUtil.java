package dev.nfnets.core.io;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Small helpers shared by the tensor formats of this package. */
final class IoUtil {
    /** Largest byte[] the JVM reliably allocates. */
    static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 16L;

    private IoUtil() {
    }

    /**
     * Fails with a clear {@link NoSuchFileException} when {@code file} is missing and with an IOException when it is a
     * directory.
     */
    static void requireRegularFile(Path file, String kind) throws IOException {
        RegularFiles.require(file, kind + " file");
    }

    /** Renders a shape as numpy does: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
    static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        if (shape.length == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }

    /**
     * Number of elements of {@code shape}, or -1 when a dimension is negative or the product overflows a long.
     */
    static long elementCountOrMinusOne(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /** {@code count * itemSize}, or -1 on overflow or when count is negative. */
    static long byteCountOrMinusOne(long count, int itemSize) {
        if (count < 0) {
            return -1;
        }
        try {
            return Math.multiplyExact(count, (long) itemSize);
        } catch (ArithmeticException e) {
            return -1;
        }
    }
}
