package dev.nfnets.core.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array as stored in tensor files: a dtype, a shape and the elements as little-endian bytes in C
 * (row-major) order. Immutable; it is the in-memory type of {@link Npy}, {@link Npz} and {@link Safetensors}.
 *
 * <p>A shape of length 0 is a 0-d (scalar) array with one element; a shape containing 0 is an empty array.
 * Arrays are limited to about 2 GiB of data each.
 *
 * <pre>{@code
 * NpyArray w = Npy.read(Path.of("w.npy"));                  // e.g. F4, shape (3, 3, 3, 16)
 * INDArray x = w.toINDArray();                                // FLOAT, C order, same shape
 * NpyArray back = NpyArray.fromINDArray(x.permute(3, 2, 0, 1)); // any view; stored in C order
 * NpyArray s = NpyArray.ofFloats(new long[0], 0.5f);          // 0-d array
 * }</pre>
 */
public final class NpyArray {
    private final NpyDType dtype;
    private final long[] shape;
    private final byte[] data;

    /**
     * Creates an array from raw little-endian C-order bytes; the byte array is copied.
     *
     * @param dtype the element type
     * @param shape the shape (copied); {@code new long[0]} for a 0-d array
     * @param data  exactly {@code product(shape) * dtype.itemSize()} bytes; for {@link NpyDType#B1} each byte 0 or 1
     * @throws IllegalArgumentException when the shape is negative or the byte count does not match
     */
    public NpyArray(NpyDType dtype, long[] shape, byte[] data) {
        this(dtype, Objects.requireNonNull(shape, "shape").clone(), Objects.requireNonNull(data, "data").clone(), true);
    }

    private NpyArray(NpyDType dtype, long[] shape, byte[] data, boolean validate) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape;
        this.data = data;
        if (validate) {
            long n = IoUtil.elementCountOrMinusOne(shape);
            if (n < 0) {
                throw new IllegalArgumentException("invalid shape " + Arrays.toString(shape)
                        + ": negative dimension or too many elements");
            }
            long bytes = IoUtil.byteCountOrMinusOne(n, dtype.itemSize());
            if (bytes != data.length) {
                throw new IllegalArgumentException("shape " + IoUtil.shapeString(shape) + " of " + dtype + " needs "
                        + (bytes < 0 ? "too many" : Long.toString(bytes)) + " bytes but " + data.length + " were given");
            }
            if (dtype == NpyDType.B1) {
                for (byte b : data) {
                    if (b != 0 && b != 1) {
                        throw new IllegalArgumentException("bool array holds byte value " + (b & 0xff)
                                + "; only 0 and 1 are allowed");
                    }
                }
            }
        }
    }

    /** Wraps {@code data} without copying (the caller hands over ownership); sizes are still validated. */
    static NpyArray wrap(NpyDType dtype, long[] shape, byte[] data) {
        return new NpyArray(dtype, shape, data, true);
    }

    // ------------------------------------------------------------------ factories

    /**
     * @param shape  the shape; {@code new long[0]} for a 0-d array
     * @param values the elements in C order
     * @return an {@link NpyDType#F4} array
     */
    public static NpyArray ofFloats(long[] shape, float... values) {
        byte[] b = new byte[checkedBytes(shape, values.length, 4)];
        le(b).asFloatBuffer().put(values);
        return new NpyArray(NpyDType.F4, shape.clone(), b, false);
    }

    /**
     * @param shape  the shape; {@code new long[0]} for a 0-d array
     * @param values the elements in C order
     * @return an {@link NpyDType#F8} array
     */
    public static NpyArray ofDoubles(long[] shape, double... values) {
        byte[] b = new byte[checkedBytes(shape, values.length, 8)];
        le(b).asDoubleBuffer().put(values);
        return new NpyArray(NpyDType.F8, shape.clone(), b, false);
    }

    /**
     * @param shape  the shape; {@code new long[0]} for a 0-d array
     * @param values the elements in C order
     * @return an {@link NpyDType#I4} array
     */
    public static NpyArray ofInts(long[] shape, int... values) {
        byte[] b = new byte[checkedBytes(shape, values.length, 4)];
        le(b).asIntBuffer().put(values);
        return new NpyArray(NpyDType.I4, shape.clone(), b, false);
    }

    /**
     * @param shape  the shape; {@code new long[0]} for a 0-d array
     * @param values the elements in C order
     * @return an {@link NpyDType#I8} array
     */
    public static NpyArray ofLongs(long[] shape, long... values) {
        byte[] b = new byte[checkedBytes(shape, values.length, 8)];
        le(b).asLongBuffer().put(values);
        return new NpyArray(NpyDType.I8, shape.clone(), b, false);
    }

    /**
     * @param shape  the shape; {@code new long[0]} for a 0-d array
     * @param values the elements in C order
     * @return a {@link NpyDType#B1} array
     */
    public static NpyArray ofBooleans(long[] shape, boolean... values) {
        byte[] b = new byte[checkedBytes(shape, values.length, 1)];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) (values[i] ? 1 : 0);
        }
        return new NpyArray(NpyDType.B1, shape.clone(), b, false);
    }

    private static int checkedBytes(long[] shape, int count, int itemSize) {
        long n = IoUtil.elementCountOrMinusOne(Objects.requireNonNull(shape, "shape"));
        if (n != count) {
            throw new IllegalArgumentException("shape " + IoUtil.shapeString(shape) + " holds "
                    + (n < 0 ? "an invalid number of" : Long.toString(n)) + " elements but " + count + " values were given");
        }
        long bytes = (long) count * itemSize;
        if (bytes > IoUtil.MAX_ARRAY_BYTES) {
            throw new IllegalArgumentException("array of " + bytes + " bytes is too large (limit about 2 GiB)");
        }
        return (int) bytes;
    }

    // ------------------------------------------------------------------ accessors

    /** @return the element type */
    public NpyDType dtype() {
        return dtype;
    }

    /** @return a copy of the shape; empty for a 0-d array */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of dimensions (0 for a 0-d array) */
    public int rank() {
        return shape.length;
    }

    /** @return the number of elements (1 for a 0-d array) */
    public long elementCount() {
        return data.length / dtype.itemSize();
    }

    /** @return the size of the data in bytes */
    public int byteCount() {
        return data.length;
    }

    /** @return a copy of the little-endian C-order element bytes */
    public byte[] data() {
        return data.clone();
    }

    /** @return a read-only little-endian view of the element bytes (no copy) */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Direct access for the writers of this package; never modify. */
    byte[] rawData() {
        return data;
    }

    // ------------------------------------------------------------------ conversions

    /**
     * Converts to an ND4J array in C order with the same shape (0-d arrays give a rank-0 INDArray). The ND4J type is
     * {@link NpyDType#ndArrayType()}: F4 gives FLOAT, F8 DOUBLE, I4 INT, I8 LONG, U1 UBYTE, B1 BOOL, and the 16-bit floats
     * F2 and BF16 are widened (exactly) to FLOAT. The array is allocated in the current ND4J workspace, if any.
     *
     * @return a new INDArray
     */
    public INDArray toINDArray() {
        DataType type = dtype.ndArrayType();
        int n = (int) elementCount();
        if (n == 0) {
            return Nd4j.create(type, shape);
        }
        ByteBuffer bb = le(data);
        INDArray flat;
        switch (dtype) {
            case F4: {
                float[] v = new float[n];
                bb.asFloatBuffer().get(v);
                flat = Nd4j.createFromArray(v);
                break;
            }
            case F2:
            case BF16:
                flat = Nd4j.createFromArray(toFloatArray());
                break;
            case F8: {
                double[] v = new double[n];
                bb.asDoubleBuffer().get(v);
                flat = Nd4j.createFromArray(v);
                break;
            }
            case I1:
                flat = Nd4j.createFromArray(data.clone());
                break;
            case I2: {
                short[] v = new short[n];
                bb.asShortBuffer().get(v);
                flat = Nd4j.createFromArray(v);
                break;
            }
            case I4: {
                int[] v = new int[n];
                bb.asIntBuffer().get(v);
                flat = Nd4j.createFromArray(v);
                break;
            }
            case I8: {
                long[] v = new long[n];
                bb.asLongBuffer().get(v);
                flat = Nd4j.createFromArray(v);
                break;
            }
            case U1: {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = data[i] & 0xff;
                }
                flat = Nd4j.createFromArray(v).castTo(DataType.UINT8);
                break;
            }
            case U2: {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = bb.getShort(2 * i) & 0xffff;
                }
                flat = Nd4j.createFromArray(v).castTo(DataType.UINT16);
                break;
            }
            case U4: {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = bb.getInt(4 * i) & 0xffffffffL;
                }
                flat = Nd4j.createFromArray(v).castTo(DataType.UINT32);
                break;
            }
            case U8: {
                long[] v = new long[n];
                bb.asLongBuffer().get(v);
                flat = Nd4j.createFromArray(v).castTo(DataType.UINT64);
                break;
            }
            case B1: {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = data[i] != 0;
                }
                flat = Nd4j.createFromArray(v);
                break;
            }
            default:
                throw new IllegalStateException("unhandled dtype " + dtype);
        }
        if (shape.length == 1) {
            return flat;
        }
        // the explicit long[] matters: reshape('c', n) would bind to reshape(long...) with 'c' as a dimension
        return flat.reshape('c', shape.clone());
    }

    /**
     * Copies an ND4J array of any ordering, view or stride layout into C order. HALF gives {@link NpyDType#F2},
     * BFLOAT16 gives {@link NpyDType#BF16}; the other numeric types map as in {@link NpyDType#fromDataType}.
     *
     * @param array the array
     * @return a new NpyArray with the array's shape (rank 0 stays rank 0)
     * @throws IllegalArgumentException for non-numeric ND4J types (UTF8, ...) or arrays over about 2 GiB
     */
    public static NpyArray fromINDArray(INDArray array) {
        Objects.requireNonNull(array, "array");
        NpyDType dt = NpyDType.fromDataType(array.dataType());
        long[] shape = array.shape().clone();
        long n = IoUtil.elementCountOrMinusOne(shape);
        long bytes = IoUtil.byteCountOrMinusOne(n, dt.itemSize());
        if (bytes < 0 || bytes > IoUtil.MAX_ARRAY_BYTES) {
            throw new IllegalArgumentException("array of shape " + IoUtil.shapeString(shape) + " is too large (limit about 2 GiB)");
        }
        byte[] out = new byte[(int) bytes];
        if (n == 0) {
            return new NpyArray(dt, shape, out, false);
        }
        // dup('c') materialises views, strides and f-order; the explicit long[] avoids the reshape(long...) overload trap
        INDArray flat = array.dup('c').reshape('c', new long[] {n});
        ByteBuffer bb = le(out);
        switch (dt) {
            case F4:
                bb.asFloatBuffer().put(flat.toFloatVector());
                break;
            case F8:
                bb.asDoubleBuffer().put(flat.toDoubleVector());
                break;
            case F2: {
                float[] v = flat.castTo(DataType.FLOAT).toFloatVector();
                for (int i = 0; i < v.length; i++) {
                    bb.putShort(2 * i, Float16.floatToHalf(v[i]));
                }
                break;
            }
            case BF16: {
                float[] v = flat.castTo(DataType.FLOAT).toFloatVector();
                for (int i = 0; i < v.length; i++) {
                    bb.putShort(2 * i, Float16.floatToBf16(v[i]));
                }
                break;
            }
            case I4:
                bb.asIntBuffer().put(flat.toIntVector());
                break;
            case I8:
                bb.asLongBuffer().put(flat.toLongVector());
                break;
            case I1:
            case U1:
            case B1: {
                int[] v = flat.castTo(DataType.INT32).toIntVector();
                for (int i = 0; i < v.length; i++) {
                    out[i] = (byte) (dt == NpyDType.B1 ? (v[i] != 0 ? 1 : 0) : v[i]);
                }
                break;
            }
            case I2:
            case U2: {
                int[] v = flat.castTo(DataType.INT32).toIntVector();
                for (int i = 0; i < v.length; i++) {
                    bb.putShort(2 * i, (short) v[i]);
                }
                break;
            }
            case U4: {
                long[] v = flat.castTo(DataType.INT64).toLongVector();
                for (int i = 0; i < v.length; i++) {
                    bb.putInt(4 * i, (int) v[i]);
                }
                break;
            }
            case U8:
                bb.asLongBuffer().put(flat.castTo(DataType.INT64).toLongVector());
                break;
            default:
                throw new IllegalStateException("unhandled dtype " + dt);
        }
        return new NpyArray(dt, shape, out, false);
    }

    /**
     * The elements as floats, converting from any dtype (F8 and large integers are rounded, bool gives 0 or 1).
     *
     * @return the elements in C order
     */
    public float[] toFloatArray() {
        int n = (int) elementCount();
        float[] v = new float[n];
        ByteBuffer bb = le(data);
        switch (dtype) {
            case F4:
                bb.asFloatBuffer().get(v);
                break;
            case F2:
                for (int i = 0; i < n; i++) {
                    v[i] = Float16.halfToFloat(bb.getShort(2 * i));
                }
                break;
            case BF16:
                for (int i = 0; i < n; i++) {
                    v[i] = Float16.bf16ToFloat(bb.getShort(2 * i));
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    v[i] = (float) doubleAt(bb, i);
                }
        }
        return v;
    }

    /**
     * The elements as doubles, converting from any dtype (exact except for 64-bit integers beyond 2^53).
     *
     * @return the elements in C order
     */
    public double[] toDoubleArray() {
        int n = (int) elementCount();
        double[] v = new double[n];
        ByteBuffer bb = le(data);
        if (dtype == NpyDType.F8) {
            bb.asDoubleBuffer().get(v);
        } else {
            for (int i = 0; i < n; i++) {
                v[i] = doubleAt(bb, i);
            }
        }
        return v;
    }

    /**
     * The elements of an integer or bool array as longs (U8 values above 2^63-1 come out negative, two's complement).
     *
     * @return the elements in C order
     * @throws IllegalStateException for floating-point dtypes
     */
    public long[] toLongArray() {
        if (dtype.isFloatingPoint()) {
            throw new IllegalStateException("toLongArray() needs an integer or bool array, this one is " + dtype);
        }
        int n = (int) elementCount();
        long[] v = new long[n];
        ByteBuffer bb = le(data);
        for (int i = 0; i < n; i++) {
            v[i] = longAt(bb, i);
        }
        return v;
    }

    /**
     * @return this array if it is F4, else a new F4 array with the converted elements (e.g. BF16/F2 weights widened)
     */
    public NpyArray toFloat32() {
        return dtype == NpyDType.F4 ? this : ofFloats(shape, toFloatArray());
    }

    private double doubleAt(ByteBuffer bb, int i) {
        switch (dtype) {
            case F2:
                return Float16.halfToFloat(bb.getShort(2 * i));
            case BF16:
                return Float16.bf16ToFloat(bb.getShort(2 * i));
            case F4:
                return bb.getFloat(4 * i);
            case F8:
                return bb.getDouble(8 * i);
            case U8: {
                long x = bb.getLong(8 * i);
                return x >= 0 ? x : (double) (x >>> 1) * 2.0 + (x & 1);
            }
            default:
                return longAt(bb, i);
        }
    }

    private long longAt(ByteBuffer bb, int i) {
        switch (dtype) {
            case I1:
                return data[i];
            case U1:
            case B1:
                return data[i] & 0xff;
            case I2:
                return bb.getShort(2 * i);
            case U2:
                return bb.getShort(2 * i) & 0xffff;
            case I4:
                return bb.getInt(4 * i);
            case U4:
                return bb.getInt(4 * i) & 0xffffffffL;
            case I8:
            case U8:
                return bb.getLong(8 * i);
            default:
                throw new IllegalStateException("not an integer dtype: " + dtype);
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ------------------------------------------------------------------ object

    /** Equal when dtype, shape and every data byte are equal (so NaNs with equal bits are equal). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof NpyArray)) {
            return false;
        }
        NpyArray other = (NpyArray) o;
        return dtype == other.dtype && Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    /** @return e.g. {@code NpyArray[F4 (3, 3, 3, 16)]} */
    @Override
    public String toString() {
        return "NpyArray[" + dtype + " " + IoUtil.shapeString(shape) + "]";
    }
}
