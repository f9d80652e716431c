package dev.nfnets.train;

import dev.nfnets.layers.Parameter;
import java.util.Map;

/**
 * Computes a training step's gradients outside the {@link Trainer}'s own thread, for example on the workers of
 * a cluster ({@code nfnets-spark}), while the trainer keeps everything else of the step: AGC, SGD, EMA, the
 * schedules, listeners, divergence checks, checkpoints and resume. Set with
 * {@link Trainer#gradientSource(GradientSource)}; the trainer then loads no batches itself.
 *
 * <p>A source must give the gradient the trainer would compute in one JVM: the mean over batch
 * {@code batchIndex} of epoch {@code epoch} of the trainer's {@link Trainer#loader() loader}, at the
 * parameters' current values, with the stochastic layers seeded by {@code stepSeed} and each example's
 * position in the batch ({@link dev.nfnets.core.NFNet#reseed(long, long)}).
 */
public interface GradientSource extends AutoCloseable {
    /** Mean loss and accuracy of one step's batch. */
    record Outcome(double loss, double accuracy, int examples) {
    }

    /**
     * Writes into every trainable parameter's gradient ({@link Parameter#gradForWriting()}) the step's mean
     * gradient; frozen parameters keep a zero gradient.
     *
     * @param step       0-based index of the step
     * @param stepSeed   seed of the step's stochastic layers
     * @param epoch      epoch of the batch
     * @param batchIndex batch within the epoch
     * @param params     the model's parameters by name, in model order
     */
    Outcome computeGradients(long step, long stepSeed, long epoch, int batchIndex, Map<String, Parameter> params);

    /** Releases what the source holds (a cluster session, cached broadcasts); idempotent. */
    @Override
    default void close() {
    }
}
