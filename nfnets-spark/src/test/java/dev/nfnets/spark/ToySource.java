package dev.nfnets.spark;

import dev.nfnets.train.ToyDataset;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.DatasetSource;

/** The toy problem of nfnets-train's tests ({@link ToyDataset}), opened on the workers. */
record ToySource(int n, int k, int size, long seed) implements DatasetSource {
    private static final long serialVersionUID = 1L;

    @Override
    public Dataset open() {
        return new ToyDataset(n, k, size, seed);
    }
}
