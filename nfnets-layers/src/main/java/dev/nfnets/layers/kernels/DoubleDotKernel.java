package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute {@code sum(a * b)} over two arrays of the same length, accumulated in double precision: for
 * sums with heavy cancellation, such as the skip gains' gradients.
 *
 * <p>Implementations ({@link #choose} picks one from the options):
 * <ul>
 *   <li>{@link Nd4jDoubleDot}: through double copies (three allocating ND4J ops); the reference implementation.</li>
 *   <li>{@link FloatDoubleDot}: dense FLOAT arrays in one pass, fixed chunks summed in order, so the result does
 *       not depend on the thread count ({@code nfnets.floatKernels}).</li>
 * </ul>
 */
public interface DoubleDotKernel {
    DoubleDotKernel REFERENCE = new Nd4jDoubleDot();
    DoubleDotKernel FLOAT = new FloatDoubleDot();

    String name();

    double dot(INDArray a, INDArray b, NFNetsOptions o);

    /** Dense FLOAT arrays take the float pass when the options allow it, the rest the double copies. */
    static DoubleDotKernel choose(INDArray a, INDArray b, NFNetsOptions o) {
        return FloatKernels.eligible(o, a, b) ? FLOAT : REFERENCE;
    }
}
