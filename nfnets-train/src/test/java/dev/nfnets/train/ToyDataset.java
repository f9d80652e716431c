package dev.nfnets.train;

import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.Normalization;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A learnable toy problem: class k has a bright 3x3 patch at a class-specific place, plus seeded noise. In this
 * module's test jar, so that nfnets-spark's tests open the same data on their workers.
 */
public final class ToyDataset implements Dataset {
    private final int n;
    private final int k;
    private final int size;
    private final long seed;

    public ToyDataset(int n, int k, int size, long seed) {
        this.n = n;
        this.k = k;
        this.size = size;
        this.seed = seed;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public int numClasses() {
        return k;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return size;
    }

    @Override
    public int width() {
        return size;
    }

    @Override
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            names.add("class" + i);
        }
        return names;
    }

    @Override
    public void get(int index, float[] dst) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        for (int p = 0; p < dst.length; p++) {
            dst[p] = (float) (r.nextGaussian() * 0.3);
        }
        int label = label(index);
        int cy = 1 + (label * 3) % (size - 3);
        int cx = 1 + (label * 5) % (size - 3);
        for (int y = cy; y < cy + 3; y++) {
            for (int x = cx; x < cx + 3; x++) {
                dst[y * size + x] += 2f;
            }
        }
    }

    @Override
    public int label(int index) {
        return (int) ((index * 7L + seed) % k);
    }

    @Override
    public String description() {
        return "toy " + n + " examples, " + k + " classes";
    }

    @Override
    public Normalization normalization() {
        return Normalization.identity();
    }
}
