package dev.nfnets.train.listen;

/** End-of-epoch summary with the test evaluation (NaN where no evaluation ran). */
public record EpochMetrics(int epoch, long step, double trainLoss, double trainAccuracy, double testTop1, double testTop5,
                           double testLoss, boolean ema, double elapsedSeconds) {
}
