package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout: in training, each element is zeroed with probability {@code rate} and the rest scaled by
 * {@code 1/(1-rate)}. Each example's mask is drawn from its own generator ({@link Stochastic}).
 *
 * <p>Kernels: none; one implementation, the ND4J ops below.
 */
public class Dropout extends AbstractLayer implements Stochastic {
    private final double rate;
    private long seed;
    private long firstExample;
    private INDArray cachedMask;

    public Dropout(String name, double rate) {
        super(name);
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("layer '" + name + "': dropout rate must be in [0, 1), got " + rate);
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
        if (!mode.isTraining() || rate == 0) {
            cachedMask = mode.isTraining() ? x.ulike().assign(1) : null;
            return x.dup();
        }
        long n = x.length();
        float keepScale = (float) (1 / (1 - rate));
        float[] m = new float[Math.toIntExact(n)];
        int examples = (int) x.size(0);
        int per = m.length / Math.max(1, examples);
        for (int e = 0; e < examples; e++) {
            java.util.SplittableRandom random = Stochastic.exampleRandom(seed, firstExample + e);
            for (int i = e * per, end = i + per; i < end; i++) {
                m[i] = random.nextDouble() < rate ? 0f : keepScale;
            }
        }
        INDArray mask = Nd4j.create(m, x.shape(), 'c').castTo(x.dataType());
        cachedMask = mask;
        return x.mul(mask);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return gradOut.mul(requireCached(cachedMask));
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        cachedMask = null;
    }
}
