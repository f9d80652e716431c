package dev.nfnets.layers;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bulk copies between small, dense ND4J arrays and Java {@code double[]}, for arithmetic that is cheaper on
 * the host than as a chain of native ops.
 *
 * <p>Every ND4J op costs tens of microseconds of dispatch (op and shape descriptors, JNI, an OpenMP region)
 * whatever the array's size, and on a loaded 2-core machine an OpenMP barrier can cost milliseconds. A
 * parameter of a few thousand floats needs a dozen such ops per step for weight standardisation, AGC, SGD
 * and the EMA; one bulk copy in, a Java loop in double precision and one bulk copy out cost less than one
 * of them. Above {@link NFNetsOptions#hostMaxElements()} elements (65,536 by default) the native ops win and
 * callers keep them.
 *
 * <p>Only whole, contiguous FLOAT or DOUBLE buffers qualify ({@link #eligible}); views, strided arrays and
 * other types must take the native path.
 */
public final class HostArrays {
    private HostArrays() {
    }

    /**
     * True when every array is whole, contiguous, FLOAT or DOUBLE and within the options' size limit
     * ({@link NFNetsOptions#hostMaxElements()}; 0 turns the host paths off).
     */
    public static boolean eligible(NFNetsOptions options, INDArray... arrays) {
        long maxElements = options.hostMaxElements();
        for (INDArray a : arrays) {
            if (a == null || a.length() > maxElements || a.length() == 0) {
                return false;
            }
            DataType t = a.dataType();
            if (t != DataType.FLOAT && t != DataType.DOUBLE) {
                return false;
            }
            if (!Shapes.wholeInCOrder(a)) {
                return false;
            }
        }
        return true;
    }

    /** The elements in c order, widened to double. */
    public static double[] read(INDArray a) {
        if (a.dataType() == DataType.DOUBLE) {
            return a.data().asDouble();
        }
        float[] f = a.data().asFloat();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Overwrites the elements (c order), rounding to the array's type. */
    public static void write(INDArray a, double[] values) {
        if (values.length != a.length()) {
            throw new IllegalArgumentException("host write: " + values.length + " values for an array of " + a.length());
        }
        if (a.dataType() == DataType.DOUBLE) {
            a.data().setData(values);
            return;
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        a.data().setData(f);
    }

    /** Sets a whole, contiguous array to zero with one memset instead of an ND4J op. */
    public static void zero(INDArray a) {
        if (a.offset() == 0 && a.data().length() == a.length() && a.elementWiseStride() == 1 && !a.isEmpty()) {
            Pointer.memset(a.data().pointer(), 0, a.length() * a.dataType().width());
        } else {
            a.assign(0);
        }
    }
}
