package dev.nfnets.layers.memory;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Uninitialised FLOAT arrays whose first element sits on a {@value #BYTES}-byte boundary: a cache line, and the width
 * of an AVX-512 register. ND4J places arrays on 16-byte boundaries, so most of a 64-byte vector load from one of them
 * straddles two cache lines. The arrays that oneDNN's kernels read and write directly (the blocked copies of a
 * convolution's input, weights and output) come from here.
 *
 * <p>Why: oneDNN's convolutions on F0's 16-byte-aligned blocked buffers took at least 2.59 ms per forward call of a
 * 768-channel grouped 3x3 convolution at 8x8 pixels (batch 8), against 2.34 ms in PyTorch's build of the same
 * kernels; on 64-byte-aligned buffers the same calls took from 2.37 ms (docs/BENCHMARKS.md).
 *
 * <p>The array is a c-order array of its shape over a slightly larger allocation in the current scope: its data
 * buffer is a view that starts up to 60 bytes into that allocation. ND4J's ops and {@code data().addressPointer()}
 * (what oneDNN is given) account for that start; a buffer's NIO view ({@code asNioFloat()}) does not, so the Java
 * float passes do not take these arrays ({@code FloatKernels.dense} is false for them): they are for buffers that
 * native kernels read and write by address.
 */
public final class Aligned {
    /** The alignment in bytes. */
    public static final int BYTES = 64;

    private Aligned() {
    }

    /** An uninitialised FLOAT array of {@code shape}, c-order, its first element on a {@value #BYTES}-byte boundary. */
    public static INDArray floats(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Aligned: negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        int per = BYTES / Float.BYTES;
        INDArray raw = Nd4j.createUninitialized(DataType.FLOAT, n + per - 1);
        long address = raw.data().addressPointer().address();
        if (address % Float.BYTES != 0) {
            throw new IllegalStateException("Aligned: ND4J returned a FLOAT buffer at " + address + ", not on a float boundary");
        }
        long skip = (BYTES - address % BYTES) % BYTES / Float.BYTES;
        DataBuffer data = Nd4j.getDataBufferFactory().create(raw.data(), skip, n);
        return Nd4j.create(data, shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
    }

    /** Whether {@code a}'s first element is on a {@value #BYTES}-byte boundary. */
    public static boolean isAligned(INDArray a) {
        return a.data().addressPointer().address() % BYTES == 0;
    }
}
