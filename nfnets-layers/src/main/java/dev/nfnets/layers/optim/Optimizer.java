package dev.nfnets.layers.optim;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * Updates parameters from their accumulated gradients. Implementations skip frozen parameters and keep
 * their state (momentum buffers, step counter) outside any workspace so it survives step scopes.
 */
public interface Optimizer {

    /** Applies one update to {@code params} (dotted name to parameter) and advances the step counter. */
    void step(Map<String, Parameter> params);

    /** Number of completed steps. */
    long stepCount();

    /** Sets the step counter (when resuming from a checkpoint). */
    void setStepCount(long step);

    /** Learning rate the next {@link #step} will use. */
    double currentLearningRate();

    /** Named state arrays for checkpoints (e.g. {@code momentum/<param>}); detached copies are not required. */
    Map<String, INDArray> state();

    /** Restores state saved by {@link #state()}; unknown or mis-shaped entries are errors. */
    void loadState(Map<String, INDArray> state);

    /**
     * Makes the updates run with {@code options}' kernel choices (a model's {@code NFNet.options()}); optimizers
     * start with {@link NFNetsOptions#defaults()}. Wrappers pass it on to what they wrap.
     */
    default void useOptions(NFNetsOptions options) {
    }
}
