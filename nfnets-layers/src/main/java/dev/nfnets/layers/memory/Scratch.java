package dev.nfnets.layers.memory;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * One buffer that short-lived arrays of a step take turns in: each {@link #view} is a whole, dense, c-order array
 * over the buffer's first elements, so the next view overwrites it. A training step uses one for the activation
 * outputs that only feed the next convolution: the backward pass recomputes them instead of the step keeping
 * each one until its end (NFNet's blocks).
 *
 * <p>A view is a full array of its own shape for every kernel ({@code data().length() == length()}, offset 0), not
 * a strided window of a larger one, so the dense fast paths take it as they take a fresh array. The buffer is
 * allocated in the scope that is current when the scratch is made (the step's) and lives as long as it.
 */
public final class Scratch {
    private final INDArray buffer;

    /** A buffer of {@code capacity} elements of {@code type}, in the current scope. */
    public Scratch(DataType type, long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("Scratch: capacity must be >= 1 element, got " + capacity);
        }
        this.buffer = Nd4j.createUninitialized(type, capacity);
    }

    public long capacity() {
        return buffer.length();
    }

    public DataType dataType() {
        return buffer.dataType();
    }

    /** A whole c-order array of {@code shape} over the buffer's first elements (its contents are undefined). */
    public INDArray view(long... shape) {
        return prefix(buffer, shape);
    }

    /**
     * A whole c-order array of {@code shape} over the first elements of {@code buffer} (a whole c-order array of
     * at least that many elements), sharing its memory.
     */
    static INDArray prefix(INDArray buffer, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n > buffer.length()) {
            throw new IllegalArgumentException("Scratch: an array of shape " + Arrays.toString(shape) + " (" + n
                    + " elements) does not fit in " + buffer.length() + " elements");
        }
        if (n == buffer.length()) {
            return buffer.reshape('c', shape);
        }
        DataBuffer data = Nd4j.getDataBufferFactory().create(buffer.data(), buffer.offset(), n);
        return Nd4j.create(data, shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
    }
}
