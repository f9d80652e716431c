package dev.nfnets.train.listen;

/**
 * What happened in one training step.
 *
 * @param agcClippedFraction fraction of AGC units clipped this step (NaN without AGC)
 * @param agcMaxRatio        largest ||g|| / max(||w||, eps) over all units (NaN without AGC)
 */
public record StepMetrics(long step, long totalSteps, int epoch, double loss, double accuracy, double learningRate,
                          double imagesPerSecond, double agcClippedFraction, double agcMaxRatio, double elapsedSeconds) {
}
