package dev.nfnets.train.listen;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Appends one row per step to {@code metrics.csv}, one per epoch to {@code eval.csv} and one per AGC
 * parameter group and step to {@code agc.csv} in a run folder,
 * flushed as it goes so a crashed run keeps its history. A resumed run appends to the same files.
 */
public final class CsvMetricsListener implements TrainingListener {
    public static final String STEPS_FILE = "metrics.csv";
    public static final String EPOCHS_FILE = "eval.csv";
    public static final String AGC_FILE = "agc.csv";
    private final Path dir;
    private BufferedWriter steps;
    private BufferedWriter epochs;
    private BufferedWriter agc;

    public CsvMetricsListener(Path runDir) {
        this.dir = runDir;
    }

    private static BufferedWriter open(Path file, String header) throws IOException {
        boolean fresh = !Files.exists(file) || Files.size(file) == 0;
        BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (fresh) {
            w.write(header);
            w.newLine();
        }
        return w;
    }

    @Override
    public void onStart(long startStep, long totalSteps) {
        try {
            Files.createDirectories(dir);
            steps = open(dir.resolve(STEPS_FILE), "step,epoch,loss,accuracy,lr,images_per_s,agc_clipped_fraction,agc_max_ratio,elapsed_s");
            epochs = open(dir.resolve(EPOCHS_FILE), "epoch,step,train_loss,train_accuracy,test_top1,test_top5,test_loss,ema,elapsed_s");
            agc = open(dir.resolve(AGC_FILE), "step,group,units,clipped,clipped_fraction,max_ratio");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics into " + dir, e);
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        write(steps, String.format(Locale.ROOT, "%d,%d,%.6f,%.5f,%.6g,%.1f,%.6f,%.6g,%.2f", m.step(), m.epoch() + 1, m.loss(),
                m.accuracy(), m.learningRate(), m.imagesPerSecond(), m.agcClippedFraction(), m.agcMaxRatio(), m.elapsedSeconds()));
    }

    /** One row per parameter group per step: what AGC clipped. */
    @Override
    public void onAgc(dev.nfnets.core.AgcStats s) {
        s.groups().forEach((g, v) -> write(agc, String.format(Locale.ROOT, "%d,%s,%d,%d,%.6f,%.6g", s.step() + 1, g, v.units(),
                v.clipped(), v.clippedFraction(), v.maxRatio())));
    }

    @Override
    public void onEpoch(EpochMetrics m) {
        write(epochs, String.format(Locale.ROOT, "%d,%d,%.6f,%.5f,%.5f,%.5f,%.6f,%s,%.2f", m.epoch() + 1, m.step(), m.trainLoss(),
                m.trainAccuracy(), m.testTop1(), m.testTop5(), m.testLoss(), m.ema(), m.elapsedSeconds()));
    }

    private static void write(BufferedWriter w, String line) {
        if (w == null) {
            return;
        }
        try {
            w.write(line);
            w.newLine();
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void onEnd(long step, Throwable error) {
        try {
            if (steps != null) {
                steps.close();
            }
            if (epochs != null) {
                epochs.close();
            }
            if (agc != null) {
                agc.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
