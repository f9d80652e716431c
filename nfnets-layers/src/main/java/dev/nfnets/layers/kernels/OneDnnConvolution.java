package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.memory.StepScope;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Spatial FLOAT convolutions through oneDNN directly ({@link OneDnnConv}: one cached primitive per shape for all
 * groups); the blocked copies live in a child scope of the step's memory scope, reset when the call returns.
 */
public final class OneDnnConvolution implements ConvolutionKernel {
    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public void forward(ConvGeometry g, INDArray x, INDArray kernel, INDArray b, INDArray y, NFNetsOptions options) {
        StepScope.nestedRun(() -> {
            OneDnnConv.forward(Convolutions.dense(x), Convolutions.dense(kernel), b == null ? null : Convolutions.dense(b), y,
                    g.kernelSize(), g.stride(), g.padding(), g.groups());
            return null;
        });
    }

    @Override
    public void backward(ConvGeometry g, INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dk,
                         NFNetsOptions options) {
        StepScope.nestedRun(() -> {
            OneDnnConv.backward(Convolutions.dense(x), Convolutions.dense(kernel), Convolutions.dense(gradOut), dx, dk,
                    g.kernelSize(), g.stride(), g.padding(), g.groups(), g.hasBias());
            return null;
        });
    }
}
