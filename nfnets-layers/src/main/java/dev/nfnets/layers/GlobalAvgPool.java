package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mean over the spatial dimensions: {@code (N,C,H,W) -> (N,C)}. Kernels: none; one implementation, the ND4J ops
 * below.
 */
public class GlobalAvgPool extends AbstractLayer {
    private long[] cachedShape;

    public GlobalAvgPool(String name) {
        super(name);
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode));
    }

    private INDArray forwardImpl(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, -1, -1, -1});
        cachedShape = mode.isTraining() ? x.shape() : null;
        return x.mean(2, 3);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        long[] s = requireCached(cachedShape);
        Shapes.check(name(), "output gradient", gradOut, new long[] {s[0], s[1]});
        INDArray g = gradOut.div(s[2] * s[3]).reshape(s[0], s[1], 1, 1);
        return Nd4j.create(gradOut.dataType(), s).addi(g);
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.check(name(), "input", in, new long[] {-1, -1, -1, -1});
        return new long[] {in[0], in[1]};
    }

    @Override
    public void clearCache() {
        cachedShape = null;
    }
}
