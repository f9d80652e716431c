package dev.nfnets.train.listen;

import dev.nfnets.core.AgcStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Locale;

/** Logs every {@code every}-th step, each epoch's evaluation, checkpoints, AGC telemetry and the end of the run. */
public final class LoggingListener implements TrainingListener {
    private static final Logger log = LoggerFactory.getLogger("dev.nfnets.train");
    private final int every;
    private AgcStats lastAgc;

    public LoggingListener(int every) {
        this.every = Math.max(1, every);
    }

    @Override
    public void onAgc(AgcStats stats) {
        lastAgc = stats;
    }

    @Override
    public void onStep(StepMetrics m) {
        if (m.step() % every == 0 || m.step() == 1) {
            log.info(String.format(Locale.ROOT, "step %d/%d epoch %d: loss %.4f acc %.3f lr %.4g %.0f img/s%s", m.step(),
                    m.totalSteps(), m.epoch() + 1, m.loss(), m.accuracy(), m.learningRate(), m.imagesPerSecond(),
                    lastAgc == null ? "" : String.format(Locale.ROOT, " | AGC clipped %.1f%% of units, max ||g||/||w|| %.3g (%s)",
                            100 * lastAgc.clippedFraction(), lastAgc.maxRatio(), lastAgc.maxRatioParameter())));
        }
    }

    @Override
    public void onEpoch(EpochMetrics m) {
        log.info(String.format(Locale.ROOT, "epoch %d done (step %d, %.0f s): train loss %.4f acc %.3f%s", m.epoch() + 1, m.step(),
                m.elapsedSeconds(), m.trainLoss(), m.trainAccuracy(), Double.isNaN(m.testTop1()) ? ""
                        : String.format(Locale.ROOT, "; test%s top-1 %.2f%% top-5 %.2f%% loss %.4f", m.ema() ? " (EMA)" : "",
                        100 * m.testTop1(), 100 * m.testTop5(), m.testLoss())));
    }

    @Override
    public void onCheckpoint(long step, Path file) {
        log.info("checkpoint at step {} -> {}", step, file);
    }

    @Override
    public void onEnd(long step, Throwable error) {
        if (error != null) {
            log.error("training stopped at step {}: {}", step, error.getMessage());
        }
    }
}
