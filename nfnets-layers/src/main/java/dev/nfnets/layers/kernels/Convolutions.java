package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Chooses the {@link ConvolutionKernel} for one forward pass; the backward pass reuses the forward's choice. */
public final class Convolutions {
    public static final ConvolutionKernel REFERENCE = new Nd4jConvolution();
    public static final ConvolutionKernel POINTWISE_GEMM = new GemmPointwiseConvolution();
    public static final ConvolutionKernel ONEDNN = new OneDnnConvolution();

    private Convolutions() {
    }

    /**
     * FLOAT convolutions on planes up to {@link NFNetsOptions#oneDnnConvMaxPlane()} pixels take oneDNN when its
     * natives load (1x1 ones only with {@link NFNetsOptions#oneDnnPointwise()}); other pointwise (1x1, stride 1,
     * ungrouped) convolutions of at least {@link NFNetsOptions#pointwiseMinMacs()} multiply-accumulates per
     * example take GEMMs; the rest, and everything when ND4J's platform helpers are off (the generic kernels the
     * reference check uses), ND4J's ops.
     */
    public static ConvolutionKernel choose(ConvGeometry g, INDArray x, NFNetsOptions o) {
        boolean helpers = Nd4j.getEnvironment().helpersAllowed();
        if (oneDnnTakes(x, g.kernelSize() > 1, o)) {
            return ONEDNN;
        }
        if (o.pointwiseGemm() && g.pointwise() && helpers
                && (long) g.inChannels() * g.outChannels() * x.size(2) * x.size(3) >= o.pointwiseMinMacs()) {
            return POINTWISE_GEMM;
        }
        return REFERENCE;
    }

    /**
     * Whether {@link #choose} gives oneDNN to every convolution, 1x1 ones included, of an input like {@code x}
     * (its type and plane size): then activations between such convolutions can stay in
     * {@link dev.nfnets.layers.ChannelBlocks}' layout at no cost ({@code nfnets.channelBlocks}).
     */
    public static boolean allOnOneDnn(INDArray x, NFNetsOptions o) {
        return oneDnnTakes(x, false, o);
    }

    /**
     * Whether oneDNN takes a convolution of input {@code x} (NCHW or blocked: dimensions 2 and 3 are its plane either
     * way); {@code spatial}: a kernel larger than 1x1, which does not need {@link NFNetsOptions#oneDnnPointwise()}.
     */
    private static boolean oneDnnTakes(INDArray x, boolean spatial, NFNetsOptions o) {
        return o.oneDnnConv() && (spatial || o.oneDnnPointwise()) && x.size(2) * x.size(3) <= o.oneDnnConvMaxPlane()
                && x.dataType() == DataType.FLOAT && OneDnnConv.available() && Nd4j.getEnvironment().helpersAllowed();
    }

    /** The array itself when it is whole and c-order, else a dense copy. */
    static INDArray dense(INDArray a) {
        return dev.nfnets.layers.Shapes.wholeInCOrder(a) ? a : a.dup('c');
    }
}
