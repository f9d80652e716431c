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
 * flushed as it goes so a crashed run keeps its history. A resumed run appends to the same files after cutting them
 * back to the step it starts from: rows a killed run wrote after its last checkpoint are dropped (they are trained
 * again), so every step appears once; a run starting at step 0 starts the files afresh.
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
            truncateAfter(dir.resolve(STEPS_FILE), 0, startStep);
            truncateAfter(dir.resolve(EPOCHS_FILE), 1, startStep);
            truncateAfter(dir.resolve(AGC_FILE), 0, startStep);
            steps = open(dir.resolve(STEPS_FILE), "step,epoch,loss,accuracy,lr,images_per_s,agc_clipped_fraction,agc_max_ratio,elapsed_s");
            epochs = open(dir.resolve(EPOCHS_FILE), "epoch,step,train_loss,train_accuracy,test_top1,test_top5,test_loss,ema,elapsed_s");
            agc = open(dir.resolve(AGC_FILE), "step,group,units,clipped,clipped_fraction,max_ratio");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics into " + dir, e);
        }
    }

    /**
     * Keeps the header and the rows whose step (column {@code stepColumn}) is at most {@code lastStep}, replacing the
     * file atomically; a file that holds no later row is left untouched.
     */
    static void truncateAfter(Path file, int stepColumn, long lastStep) throws IOException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        java.util.List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        StringBuilder kept = new StringBuilder();
        int dropped = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i > 0 && !line.isEmpty()) {
                String[] cols = line.split(",", -1);
                long step;
                try {
                    step = Long.parseLong(cols[Math.min(stepColumn, cols.length - 1)].trim());
                } catch (NumberFormatException e) {
                    step = Long.MAX_VALUE;   // a half-written row of a killed run
                }
                if (step > lastStep || cols.length != lines.get(0).split(",", -1).length) {   // later, or cut short by a kill
                    dropped++;
                    continue;
                }
            }
            kept.append(line).append(System.lineSeparator());
        }
        if (dropped > 0) {
            dev.nfnets.core.io.AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
            org.slf4j.LoggerFactory.getLogger(CsvMetricsListener.class).info("{}: dropped {} row(s) after step {} (written "
                    + "after the checkpoint this run starts from)", file, dropped, lastStep);
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
