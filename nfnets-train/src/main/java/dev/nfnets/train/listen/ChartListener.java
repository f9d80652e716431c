package dev.nfnets.train.listen;

import dev.nfnets.core.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Draws the training curves into one PNG ({@code curves.png}): loss, accuracy (train, and test per epoch),
 * learning rate, and the fraction of units AGC clipped; and the AGC telemetry per parameter group into
 * {@code agc.png}. Redrawn after each epoch and at the end; written
 * atomically. Uses XChart.
 */
public final class ChartListener implements TrainingListener {
    private static final Logger log = LoggerFactory.getLogger(ChartListener.class);
    public static final String FILE = "curves.png";
    public static final String AGC_FILE = "agc.png";
    private final Path file;
    private final Path agcFile;
    private final java.util.Map<String, List<Double>> groupClipped = new java.util.TreeMap<>();
    private final java.util.Map<String, Double> groupSmooth = new java.util.HashMap<>();
    private final List<Double> agcSteps = new ArrayList<>();
    private final List<Double> maxRatio = new ArrayList<>();
    private double sRatio = Double.NaN;
    private final int every;
    private final List<Double> steps = new ArrayList<>();
    private final List<Double> loss = new ArrayList<>();
    private final List<Double> acc = new ArrayList<>();
    private final List<Double> lr = new ArrayList<>();
    private final List<Double> clipped = new ArrayList<>();
    private final List<Double> evalSteps = new ArrayList<>();
    private final List<Double> evalTop1 = new ArrayList<>();
    private double sLoss = Double.NaN;
    private double sAcc = Double.NaN;
    private double sClip = Double.NaN;

    /** @param every record one point per {@code every} steps (values smoothed in between) */
    public ChartListener(Path runDir, int every) {
        this.file = runDir.resolve(FILE);
        this.agcFile = runDir.resolve(AGC_FILE);
        this.every = Math.max(1, every);
    }

    @Override
    public void onStep(StepMetrics m) {
        sLoss = ema(sLoss, m.loss());
        sAcc = ema(sAcc, m.accuracy());
        if (!Double.isNaN(m.agcClippedFraction())) {
            sClip = ema(sClip, m.agcClippedFraction());
        }
        if (m.step() % every == 0) {
            steps.add((double) m.step());
            loss.add(sLoss);
            acc.add(sAcc);
            lr.add(m.learningRate());
            clipped.add(Double.isNaN(sClip) ? 0.0 : sClip);
        }
    }

    @Override
    public void onAgc(dev.nfnets.core.AgcStats s) {
        long step = s.step() + 1;
        sRatio = ema(sRatio, s.maxRatio());
        s.groups().forEach((g, v) -> groupSmooth.merge(g, v.clippedFraction(), (old, x) -> 0.9 * old + 0.1 * x));
        if (step % every == 0) {
            agcSteps.add((double) step);
            maxRatio.add(sRatio);
            for (String g : groupSmooth.keySet()) {
                List<Double> l = groupClipped.computeIfAbsent(g, k -> new ArrayList<>());
                while (l.size() < agcSteps.size() - 1) {
                    l.add(0.0);
                }
                l.add(groupSmooth.get(g));
            }
        }
    }

    private static double ema(double s, double v) {
        return Double.isNaN(s) ? v : 0.9 * s + 0.1 * v;
    }

    @Override
    public void onEpoch(EpochMetrics m) {
        if (!Double.isNaN(m.testTop1())) {
            evalSteps.add((double) m.step());
            evalTop1.add(m.testTop1());
        }
        draw();
    }

    @Override
    public void onEnd(long step, Throwable error) {
        draw();
    }

    private XYChart chart(String title, String y) {
        XYChart c = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle("step").yAxisTitle(y).build();
        c.getStyler().setMarkerSize(4);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        // from step 0, fewer ticks, no thousands separator: otherwise XChart starts the ticks at the first
        // smoothed point (5, 200, 395, ...) and the labels of long runs run into each other
        c.getStyler().setXAxisMin(0.0);
        c.getStyler().setXAxisTickMarkSpacingHint(110);
        c.getStyler().setXAxisDecimalPattern("#");
        return c;
    }

    /** Renders the four panels now. */
    public void draw() {
        if (steps.size() < 2) {
            return;
        }
        XYChart l = chart("training loss (smoothed)", "loss");
        l.addSeries("train", steps, loss).setMarker(SeriesMarkers.NONE);
        XYChart a = chart("accuracy", "accuracy");
        a.addSeries("train (smoothed)", steps, acc).setMarker(SeriesMarkers.NONE);
        if (!evalSteps.isEmpty()) {
            a.addSeries("test top-1", evalSteps, evalTop1);
        }
        XYChart r = chart("learning rate", "lr");
        r.addSeries("lr", steps, lr).setMarker(SeriesMarkers.NONE);
        XYChart g = chart("AGC: fraction of units clipped", "fraction");
        g.addSeries("clipped", steps, clipped).setMarker(SeriesMarkers.NONE);
        BufferedImage out = new BufferedImage(1280, 800, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = out.createGraphics();
        gr.drawImage(BitmapEncoder.getBufferedImage(l), 0, 0, null);
        gr.drawImage(BitmapEncoder.getBufferedImage(a), 640, 0, null);
        gr.drawImage(BitmapEncoder.getBufferedImage(r), 0, 400, null);
        gr.drawImage(BitmapEncoder.getBufferedImage(g), 640, 400, null);
        gr.dispose();
        try {
            AtomicFiles.write(file, os -> ImageIO.write(out, "png", os));
        } catch (IOException e) {
            log.warn("could not write {}: {}", file, e.getMessage());
        }
        drawAgc();
    }

    /** Per parameter group: fraction of units AGC clipped (smoothed), and the largest ||g||/||w||. */
    private void drawAgc() {
        if (agcSteps.size() < 2) {
            return;
        }
        XYChart c = chart("AGC: fraction of units clipped, per parameter group (smoothed)", "fraction clipped");
        groupClipped.forEach((g, l) -> {
            if (l.size() == agcSteps.size()) {
                c.addSeries(g, agcSteps, l).setMarker(SeriesMarkers.NONE);
            }
        });
        XYChart r = chart("AGC: largest ||g|| / max(||w||, eps) over all units (smoothed)", "ratio");
        r.getStyler().setYAxisLogarithmic(true);
        r.addSeries("max ratio", agcSteps, maxRatio).setMarker(SeriesMarkers.NONE);
        BufferedImage out = new BufferedImage(1280, 400, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = out.createGraphics();
        gr.drawImage(BitmapEncoder.getBufferedImage(c), 0, 0, null);
        gr.drawImage(BitmapEncoder.getBufferedImage(r), 640, 0, null);
        gr.dispose();
        try {
            AtomicFiles.write(agcFile, os -> ImageIO.write(out, "png", os));
        } catch (IOException e) {
            log.warn("could not write {}: {}", agcFile, e.getMessage());
        }
    }
}
