package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GELU through oneDNN's JIT eltwise kernels ({@link OneDnnEltwise}: {@code gelu_tanh} and the gain), for dense
 * FLOAT arrays. Keeps no gate: oneDNN's backward recomputes it.
 */
public final class OneDnnGelu implements ActivationKernel {
    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public Forward forward(Activation f, INDArray x, double gain, boolean keepGate, INDArray out, NFNetsOptions options) {
        requireGelu(f);
        INDArray y = out != null ? out : Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        OneDnnEltwise.geluForward(x, y, (float) gain);
        return new Forward(y, null);
    }

    @Override
    public INDArray backward(Activation f, INDArray x, INDArray gate, INDArray gradOut, double gain, NFNetsOptions options) {
        requireGelu(f);
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        OneDnnEltwise.geluBackward(x, Activations.denseFloat(gradOut), dx, (float) gain);
        return dx;
    }

    static void requireGelu(Activation f) {
        if (f != Activation.GELU) {
            throw new IllegalArgumentException("GELU kernel called for " + f);
        }
    }
}
