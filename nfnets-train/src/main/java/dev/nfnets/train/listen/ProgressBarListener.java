package dev.nfnets.train.listen;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.Locale;

/** A terminal progress bar over all steps with loss, accuracy, images/s and the ETA (me.tongfei progressbar). */
public final class ProgressBarListener implements TrainingListener {
    private ProgressBar bar;
    private double smoothLoss = Double.NaN;
    private double smoothAcc = Double.NaN;

    @Override
    public void onStart(long startStep, long totalSteps) {
        bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500).showSpeed().setUnit(" steps", 1).startsFrom(startStep, java.time.Duration.ZERO)
                .build();
    }

    @Override
    public void onStep(StepMetrics m) {
        smoothLoss = Double.isNaN(smoothLoss) ? m.loss() : 0.95 * smoothLoss + 0.05 * m.loss();
        smoothAcc = Double.isNaN(smoothAcc) ? m.accuracy() : 0.95 * smoothAcc + 0.05 * m.accuracy();
        if (bar != null) {
            bar.stepTo(m.step());
            bar.setExtraMessage(String.format(Locale.ROOT, "ep %d loss %.3f acc %.3f %.0f img/s", m.epoch() + 1, smoothLoss,
                    smoothAcc, m.imagesPerSecond()));
        }
    }

    @Override
    public void onEnd(long step, Throwable error) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
