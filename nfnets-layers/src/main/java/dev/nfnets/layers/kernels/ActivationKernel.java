package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute {@code y = gain * f(x)} element-wise and its input gradient
 * {@code dx = gain * f'(x) * dy}, where {@code f} is an {@link Activation}.
 *
 * <p>Implementations ({@link Activations#choose} picks one per forward pass; the backward pass uses the same):
 * <ul>
 *   <li>{@link Nd4jActivation}: the activation's own ND4J ops ({@link Activation#apply},
 *       {@link Activation#derivative}); the reference implementation, for every function and data type.</li>
 *   <li>{@link FloatGelu}: GELU on dense FLOAT arrays in one vectorised Java pass over native memory, the gate
 *       from {@link dev.nfnets.layers.RationalTanh} ({@code nfnets.floatKernels}).</li>
 *   <li>{@link OneDnnGelu}: GELU through oneDNN's JIT eltwise kernels for FLOAT arrays of at least
 *       {@code nfnets.onednnEltwiseMin} elements ({@code nfnets.onednnEltwise}).</li>
 * </ul>
 */
public interface ActivationKernel {
    /** What a forward pass produced: the output and, when asked for and the kernel has one, the gate to keep. */
    record Forward(INDArray y, INDArray gate) {
    }

    String name();

    /**
     * {@code gain * f(x)}; {@code keepGate}: also return the gate for the backward pass (kernels without one return
     * null); {@code out}: null for a new output array, else a whole c-order array of {@code x}'s shape and type
     * that receives it ({@code x} itself in inference, or a {@link dev.nfnets.layers.memory.Scratch} view).
     */
    Forward forward(Activation f, INDArray x, double gain, boolean keepGate, INDArray out, NFNetsOptions options);

    /** {@code gain * f'(x) * gradOut}, with the gate this kernel's forward kept (or null). */
    INDArray backward(Activation f, INDArray x, INDArray gate, INDArray gradOut, double gain, NFNetsOptions options);
}
