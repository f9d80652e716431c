package dev.nfnets.layers.optim;

/**
 * Learning rate as a function of the global step (0-based).
 *
 * <pre>{@code
 * // the NFNet reference: linear warm-up from 0 over W steps (W may be fractional), cosine to 0 at T
 * LearningRateSchedule lr = LearningRateSchedule.warmupCosine(1.6, 1563.94, 112602);
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {
    double at(long step);

    static LearningRateSchedule constant(double lr) {
        return step -> lr;
    }

    /**
     * {@code t <= W: peak * t / W}; {@code t > W: 0.5 * peak * (1 + cos(pi * (t - W) / (T - W)))}, clamped to 0
     * after {@code T}. With {@code W = 0} the schedule starts directly with the cosine.
     */
    static LearningRateSchedule warmupCosine(double peak, double warmupSteps, long totalSteps) {
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("warmupCosine needs 0 <= warmup (" + warmupSteps + ") <= total (" + totalSteps + ") and total > 0");
        }
        return step -> {
            if (step >= totalSteps) {
                return 0.0;
            }
            if (warmupSteps > 0 && step <= warmupSteps) {
                return peak * step / warmupSteps;
            }
            double progress = (step - warmupSteps) / (totalSteps - warmupSteps);
            return 0.5 * peak * (1 + Math.cos(Math.PI * progress));
        };
    }
}
