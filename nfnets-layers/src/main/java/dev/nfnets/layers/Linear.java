package dev.nfnets.layers;

import dev.nfnets.layers.kernels.OneDnnGemm;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dense layer {@code y = x W + b} with {@code W} stored {@code (in, out)}, the layout of the NFNet
 * reference checkpoints. Input {@code (N, in)}.
 *
 * <p>Kernels: the matrix products run through oneDNN's {@code sgemm}
 * ({@link dev.nfnets.layers.kernels.OneDnnGemm}) for whole c-order FLOAT matrices where the options allow
 * ({@code nfnets.onednnGemm}), else through ND4J's {@code gemm}.
 */
public class Linear extends AbstractLayer {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    private INDArray cachedInput;

    /** Weights drawn from N(0, initStd^2), bias zero. */
    public Linear(String name, int in, int out, double initStd, boolean withBias, Tag... extraTags) {
        super(name);
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("layer '" + name + "': sizes must be positive (in=" + in + ", out=" + out + ")");
        }
        this.in = in;
        this.out = out;
        Tag[] wTags = concat(Tag.WEIGHT, extraTags);
        Tag[] bTags = concat(Tag.BIAS, extraTags);
        this.weight = addParameter(new Parameter("weight", Nd4j.randn(DataType.FLOAT, in, out).muli(initStd), wTags));
        this.bias = withBias ? addParameter(new Parameter("bias", Nd4j.zeros(DataType.FLOAT, out), bTags)) : null;
    }

    /** Default init: N(0, 1/in). */
    public Linear(String name, int in, int out) {
        this(name, in, out, Math.sqrt(1.0 / in), true);
    }

    private static Tag[] concat(Tag first, Tag[] rest) {
        Tag[] t = new Tag[rest.length + 1];
        t[0] = first;
        System.arraycopy(rest, 0, t, 1, rest.length);
        return t;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode));
    }

    private INDArray forwardImpl(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, in});
        cachedInput = mode.isTraining() ? x : null;
        INDArray y = product(x, false, weight.value(), false);
        return bias == null ? y : y.addiRowVector(bias.value());
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, new long[] {x.size(0), out});
        // GEMMs with transpose flags instead of mmul on transposed views (which copied the weights): 24
        // F0-sized layers took 0.8-1.2 s that way and 30-100 ms this way, accumulating dW in place
        if (weight.isFrozen()) {
            // no weight gradient
        } else if (x.dataType() == weight.dataType() && gradOut.dataType() == x.dataType()) {
            // dW written (beta 0) when the gradient is marked zero, else added (beta 1)
            boolean fresh = weight.gradIsZero();
            INDArray dW = weight.gradForWriting();
            if (OneDnnGemm.takes(options(), x, gradOut, dW)) {
                OneDnnGemm.gemm(x, true, gradOut, false, dW, fresh ? 0.0 : 1.0);
            } else {
                Nd4j.gemm(x, gradOut, dW, true, false, 1.0, fresh ? 0.0 : 1.0);
            }
        } else {
            weight.accumulateGrad(Nd4j.gemm(x, gradOut, true, false));
        }
        if (bias != null) {
            bias.accumulateGrad(gradOut.sum(0));
        }
        return product(gradOut, false, weight.value(), true);
    }

    /**
     * {@code op(a) op(b)} in a new array: oneDNN's sgemm where it takes the arrays, else ND4J's gemm (not
     * {@code INDArray.mmul}: measured 3-15x faster for F0's squeeze-excite layers at batch 8).
     */
    private INDArray product(INDArray a, boolean transA, INDArray b, boolean transB) {
        if (!OneDnnGemm.takes(options(), a, b)) {
            return Nd4j.gemm(a, b, transA, transB);
        }
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, transA ? a.columns() : a.rows(), transB ? b.rows() : b.columns());
        OneDnnGemm.gemm(a, transA, b, transB, c, 0.0);
        return c;
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        Shapes.check(name(), "input", inputShape, new long[] {-1, in});
        return new long[] {inputShape[0], out};
    }

    @Override
    public void clearCache() {
        cachedInput = null;
    }
}
