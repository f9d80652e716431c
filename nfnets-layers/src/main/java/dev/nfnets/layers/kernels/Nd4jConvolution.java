package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Padding;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The reference convolution: ND4J's {@code conv2d} / {@code conv2d_bp}. ND4J has no grouped convolution, so a
 * grouped one is one call per group over channel views of the input, each writing into a view of the output
 * (and of the gradients). Every geometry and data type; with ND4J's platform helpers on, ND4J itself may use
 * oneDNN inside these ops.
 */
public final class Nd4jConvolution implements ConvolutionKernel {
    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public void forward(ConvGeometry g, INDArray x, INDArray kernel, INDArray b, INDArray y, NFNetsOptions options) {
        if (g.groups() == 1) {
            exec(g, "conv2d", b == null ? new INDArray[] {x, kernel} : new INDArray[] {x, kernel, b}, new INDArray[] {y});
            return;
        }
        int ig = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        for (int k = 0; k < g.groups(); k++) {
            INDArray xg = x.get(channels(k * ig, ig));
            INDArray kg = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.interval(k * og, (k + 1) * og));
            INDArray yg = y.get(channels(k * og, og));
            INDArray[] in = b == null ? new INDArray[] {xg, kg}
                    : new INDArray[] {xg, kg, b.get(NDArrayIndex.interval(k * og, (k + 1) * og))};
            exec(g, "conv2d", in, new INDArray[] {yg});
        }
    }

    @Override
    public void backward(ConvGeometry g, INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dk,
                         NFNetsOptions options) {
        if (g.groups() == 1) {
            exec(g, "conv2d_bp", new INDArray[] {x, kernel, gradOut}, new INDArray[] {dx, dk});
            return;
        }
        int ig = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        for (int k = 0; k < g.groups(); k++) {
            INDArrayIndex cols = NDArrayIndex.interval(k * og, (k + 1) * og);
            INDArray kg = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), cols);
            INDArray dkg = dk.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), cols);
            exec(g, "conv2d_bp", new INDArray[] {x.get(channels(k * ig, ig)), kg, gradOut.get(channels(k * og, og))},
                    new INDArray[] {dx.get(channels(k * ig, ig)), dkg});
        }
    }

    private static INDArrayIndex[] channels(int from, int count) {
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.interval(from, from + count), NDArrayIndex.all(),
                NDArrayIndex.all()};
    }

    private static void exec(ConvGeometry g, String op, INDArray[] inputs, INDArray[] outputs) {
        int pad = g.padding() == Padding.SAME ? 1 : 0;
        int k = g.kernelSize();
        DynamicCustomOp custom = DynamicCustomOp.builder(op)
                .addInputs(inputs)
                .addOutputs(outputs)
                // kH, kW, sH, sW, pH, pW, dH, dW, isSameMode, dataFormat (0 = NCHW), weightFormat (0 = HWIO)
                .addIntegerArguments(k, k, g.stride(), g.stride(), 0, 0, 1, 1, pad, 0, 0)
                .build();
        Nd4j.exec(custom);
    }
}
