package dev.nfnets.train.listen;

import dev.nfnets.core.AgcStats;
import dev.nfnets.layers.Parameter;

import java.nio.file.Path;
import java.util.Map;

/**
 * Hooks into a training run. Every method has an empty default, so a listener implements only what it
 * needs. Listeners run on the training thread, between steps.
 */
public interface TrainingListener {
    default void onStart(long startStep, long totalSteps) {
    }

    default void onStep(StepMetrics metrics) {
    }

    /** After backward, before AGC and the optimizer: the raw gradients are in each {@link Parameter#grad()}. */
    default void afterGradients(long step, Map<String, Parameter> params) {
    }

    /** After the optimizer step, with what AGC did (only when AGC is on). */
    default void onAgc(AgcStats stats) {
    }

    default void onEpoch(EpochMetrics metrics) {
    }

    default void onCheckpoint(long step, Path file) {
    }

    /** Called once at the end, also when the run stops with an error ({@code error} non-null). */
    default void onEnd(long step, Throwable error) {
    }
}
