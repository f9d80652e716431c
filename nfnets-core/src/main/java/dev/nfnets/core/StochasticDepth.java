package dev.nfnets.core;

import dev.nfnets.layers.AbstractLayer;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Shapes;
import dev.nfnets.layers.Stochastic;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-example stochastic depth with the reference's semantics: in training each example's residual is
 * kept with probability {@code 1 - rate} via {@code mask = floor(keep + u)}, {@code u ~ U[0,1)}, and is
 * <em>not</em> rescaled by {@code 1/keep} (timm's DropPath does rescale). Identity at inference. Example {@code i} draws {@code u} from its own generator ({@link Stochastic}).
 *
 * <p>Kernels: none; one implementation, the ND4J ops below.
 */
public class StochasticDepth extends AbstractLayer implements Stochastic {
    private final double rate;
    private long seed;
    private long firstExample;
    /** The last training forward pass's mask, one 0 or 1 per example; null when nothing was dropped or kept. */
    private float[] cachedKeep;

    public StochasticDepth(String name, double rate) {
        super(name);
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("layer '" + name + "': stochastic depth rate must be in [0, 1), got " + rate);
        }
        this.rate = rate;
    }

    public double rate() {
        return rate;
    }

    @Override
    public void reseed(long seed, long firstExample) {
        this.seed = seed;
        this.firstExample = firstExample;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return apply(x, mode, false);
    }

    /**
     * The same as {@link #forward}, but zeroes the dropped examples of {@code x} in place instead of writing a
     * new array (the mask is 0 or 1): for a caller that owns {@code x} and does not need it unmasked
     * ({@link NFBlock}: one residual-sized array less per block in a training step).
     */
    public INDArray forwardInPlace(INDArray x, Mode mode) {
        return apply(x, mode, true);
    }

    private INDArray apply(INDArray x, Mode mode, boolean inPlace) {
        if (!mode.isTraining() || rate == 0) {
            cachedKeep = null;
            return x;
        }
        int n = (int) x.size(0);
        float[] m = new float[n];
        double keep = 1 - rate;
        for (int i = 0; i < n; i++) {
            m[i] = (float) Math.floor(keep + Stochastic.exampleRandom(seed, firstExample + i).nextDouble());
        }
        cachedKeep = m;
        return inPlace ? zeroDropped(x, m) : x.mul(maskFor(x, m));
    }

    /** The mask as an array {@code (n, 1, ..., 1)} of {@code a}'s rank and data type, broadcast over each example. */
    private static INDArray maskFor(INDArray a, float[] keep) {
        long[] shape = new long[a.rank()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = keep.length;
        return Nd4j.create(keep, shape, 'c').castTo(a.dataType());
    }

    /** Zeroes the examples of {@code x} whose mask value is 0 (the mask is 0 or 1); returns {@code x}. */
    private static INDArray zeroDropped(INDArray x, float[] keep) {
        for (int i = 0; i < keep.length; i++) {
            if (keep[i] == 0f) {
                x.slice(i).assign(0);
            }
        }
        return x;
    }

    /**
     * Zeroes in place the examples of {@code x} that the last training forward pass dropped, as
     * {@link #forwardInPlace} did: for an owner that recomputes that pass's input. Returns {@code x}.
     */
    public INDArray reapplyInPlace(INDArray x) {
        if (cachedKeep == null) {
            return x;
        }
        Shapes.check(name(), "input", x, new long[] {cachedKeep.length, -1, -1, -1});
        return zeroDropped(x, cachedKeep);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return cachedKeep == null ? gradOut : gradOut.mul(maskFor(gradOut, cachedKeep));
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        cachedKeep = null;
    }
}
