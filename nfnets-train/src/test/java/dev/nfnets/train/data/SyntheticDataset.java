package dev.nfnets.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Test dataset: example i is a 1x4x4 (or CxHxW) image whose pixels encode i; label i % K. */
final class SyntheticDataset implements Dataset {
    private final int n;
    private final int k;
    private final int c;
    private final int h;
    private final int w;
    private final int failAt;

    SyntheticDataset(int n, int k) {
        this(n, k, 1, 4, 4, -1);
    }

    SyntheticDataset(int n, int k, int c, int h, int w, int failAt) {
        this.n = n;
        this.k = k;
        this.c = c;
        this.h = h;
        this.w = w;
        this.failAt = failAt;
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
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            names.add("c" + i);
        }
        return names;
    }

    @Override
    public void get(int index, float[] dst) {
        Objects.checkIndex(index, n);
        if (index == failAt) {
            throw new IllegalStateException("synthetic failure at " + index);
        }
        int len = c * h * w;
        for (int p = 0; p < len; p++) {
            dst[p] = index + p / 1000f;
        }
    }

    @Override
    public int label(int index) {
        return index % k;
    }

    @Override
    public String description() {
        return "synthetic " + n;
    }

    @Override
    public Normalization normalization() {
        return Normalization.identity();
    }
}
