package dev.nfnets.layers;

/** Whether a forward pass is part of training (caches what backward needs, stochastic layers active) or inference. */
public enum Mode {
    TRAIN,
    EVAL;

    public boolean isTraining() {
        return this == TRAIN;
    }
}
