package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Average pooling on NCHW with TF/Haiku semantics: SAME padding, and each window is divided by the
 * number of <em>valid</em> (non-padded) elements it covers. This is the pooling of the NFNet transition
 * shortcut (2x2, stride 2); on odd sizes the last window is partial.
 *
 * <p>Kernels: none; one implementation, ND4J's avgpool2d op and its backward op below.
 */
public class AvgPool2d extends AbstractLayer {
    private final int kernel;
    private final int stride;
    private final Padding padding;
    private final KeptInput keptInput;

    public AvgPool2d(String name, int kernel, int stride, Padding padding) {
        super(name);
        this.keptInput = new KeptInput(name);
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException("layer '" + name + "': kernel and stride must be positive");
        }
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.check(name(), "input", in, new long[] {-1, -1, -1, -1});
        return new long[] {in[0], in[1], padding.outputSize(in[2], kernel, stride), padding.outputSize(in[3], kernel, stride)};
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode));
    }

    private INDArray forwardImpl(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, -1, -1, -1});
        if (padding == Padding.VALID && (x.size(2) < kernel || x.size(3) < kernel)) {
            throw new IllegalArgumentException("layer '" + name() + "': input " + Shapes.str(x.shape())
                    + " is smaller than the " + kernel + "x" + kernel + " window with VALID padding");
        }
        INDArray y = Nd4j.create(x.dataType(), outputShape(x.shape()));
        exec("avgpool2d", new INDArray[] {x}, y);
        keptInput.keep(mode.isTraining() ? x : null);
        return y;
    }

    /**
     * Drops the input the last training forward pass kept (its memory is about to be reused); the backward pass
     * then takes it again, {@link #backward(INDArray, INDArray)}.
     */
    public void releaseInput() {
        keptInput.release();
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut, keptInput.get()));
    }

    /** The backward pass for a forward pass whose input was {@linkplain #releaseInput released}: {@code input} is it again. */
    public INDArray backward(INDArray gradOut, INDArray input) {
        return profileBackward(() -> backwardImpl(gradOut, keptInput.given(input)));
    }

    private INDArray backwardImpl(INDArray gradOut, INDArray x) {
        Shapes.check(name(), "output gradient", gradOut, outputShape(x.shape()));
        INDArray dx = Nd4j.create(x.dataType(), x.shape());
        exec("avgpool2d_bp", new INDArray[] {x, gradOut}, dx);
        return dx;
    }

    private void exec(String op, INDArray[] in, INDArray out) {
        // kH, kW, sH, sW, pH, pW, dH, dW, isSameMode, extraParam0 (0 = divide by valid count), dataFormat (0 = NCHW)
        Nd4j.exec(DynamicCustomOp.builder(op).addInputs(in).addOutputs(out)
                .addIntegerArguments(kernel, kernel, stride, stride, 0, 0, 1, 1, padding == Padding.SAME ? 1 : 0, 0, 0)
                .build());
    }

    @Override
    public void clearCache() {
        keptInput.clear();
    }
}
