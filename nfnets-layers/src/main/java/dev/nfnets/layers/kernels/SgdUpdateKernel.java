package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to apply an SGD update to one parameter in place, in the NFNet reference's order:
 * <pre>
 *   g   = grad + wd * w
 *   buf = momentum * buf + g          (when there is a momentum buffer)
 *   u   = nesterov ? g + momentum * buf : buf      (g without a buffer)
 *   w   = w - lr * u
 * </pre>
 * Implementations ({@link SgdUpdates#choose} picks one per parameter and step from the options and the arrays):
 * <ul>
 *   <li>{@link Nd4jSgdUpdate}: in-place ND4J ops ({@code axpy}); the reference implementation. The gradient array
 *       ends up holding {@code u}.</li>
 *   <li>{@link HostSgdUpdate}: small arrays in one double-precision host loop ({@code nfnets.hostMaxElements});
 *       the gradient array ends up holding {@code u}.</li>
 *   <li>{@link FloatSgdUpdate}: large dense FLOAT arrays in one vectorised pass ({@code nfnets.floatKernels});
 *       the gradient array is left as it was.</li>
 * </ul>
 */
public interface SgdUpdateKernel {
    String name();

    /** Updates {@code w} (and {@code buf}, which may be null for no momentum) from {@code grad}. */
    void update(INDArray w, INDArray grad, INDArray buf, double lr, double momentum, boolean nesterov, double weightDecay,
                NFNetsOptions options);
}
