package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reference activation: the function's own ND4J ops, then the gain. Never in place. */
public final class Nd4jActivation implements ActivationKernel {
    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public Forward forward(Activation f, INDArray x, double gain, boolean keepGate, INDArray out, NFNetsOptions options) {
        INDArray y;
        INDArray gate = null;
        if (keepGate && f.hasGate()) {
            INDArray[] yg = f.applyWithGate(x);
            y = yg[0];
            gate = yg[1];
        } else {
            y = f.apply(x);
        }
        if (gain != 1.0) {
            y.muli(gain);
        }
        // the reference ops allocate their result; one asked for elsewhere is a copy of it
        return new Forward(out == null || out == x ? y : out.assign(y), gate);
    }

    @Override
    public INDArray backward(Activation f, INDArray x, INDArray gate, INDArray gradOut, double gain, NFNetsOptions options) {
        INDArray d = (gate != null ? f.derivative(x, gate) : f.derivative(x)).muli(gradOut);
        return gain == 1.0 ? d : d.muli(gain);
    }
}
