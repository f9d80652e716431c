package dev.nfnets.layers;

/**
 * A layer that draws random numbers in training mode. The trainer reseeds every stochastic layer before
 * each step from (run seed, step, layer index), so a run is reproducible and a resumed run continues
 * with exactly the same draws, without saving native RNG state.
 */
public interface Stochastic {
    void reseed(long seed);
}
