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
        boolean thousands = inThousands();
        XYChart c = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(thousands ? "step (thousands)" : "step")
                .yAxisTitle(y).build();
        c.getStyler().setMarkerSize(4);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        // from step 0, fewer ticks, no thousands separator: otherwise XChart starts the ticks at the first
        // smoothed point (5, 200, 395, ...) and the labels of long runs run into each other; runs of 10,000 steps
        // and more are plotted in thousands of steps, so that the labels stay short
        c.getStyler().setXAxisMin(0.0);
        c.getStyler().setXAxisTickMarkSpacingHint(110);
        c.getStyler().setXAxisDecimalPattern(thousands ? "#.#" : "#");
        // and to a round end: with its own end at the last point, XChart puts the labels of a one-series chart on
        // data points at odd intervals (2.8, 5.6, 8.4, ...) that crowd the axis
        double last = Math.max(steps.isEmpty() ? 0 : steps.get(steps.size() - 1), agcSteps.isEmpty() ? 0 : agcSteps.get(agcSteps.size() - 1));
        if (last > 0) {
            c.getStyler().setXAxisMax(roundUp(thousands ? last / 1000 : last));
        }
        // one series: its name is in the title, no legend; several: a small legend inside the plot
        c.getStyler().setLegendVisible(false);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE);
        c.getStyler().setLegendFont(c.getStyler().getLegendFont().deriveFont(10f));
        return c;
    }

    /** The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at least {@code v > 0}. */
    static double roundUp(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v * (1 - 1e-12)) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** Whether the x axis counts thousands of steps (runs of 10,000 steps and more). */
    boolean inThousands() {
        double last = Math.max(steps.isEmpty() ? 0 : steps.get(steps.size() - 1), agcSteps.isEmpty() ? 0 : agcSteps.get(agcSteps.size() - 1));
        return last >= 10_000;
    }

    /** Step numbers as the x axis shows them. */
    private List<Double> x(List<Double> stepNumbers) {
        if (!inThousands()) {
            return stepNumbers;
        }
        List<Double> out = new ArrayList<>(stepNumbers.size());
        stepNumbers.forEach(v -> out.add(v / 1000));
        return out;
    }

    /**
     * The accuracy panel: train (smoothed) and test top-1, the y axis zoomed to the values after the first tenth
     * of the run (rounded out to 5 points), so that the region where runs differ (e.g. 88-93%) is not flattened
     * by the first steps' 10%.
     */
    XYChart accuracyChart() {
        XYChart a = chart("accuracy", "accuracy");
        a.addSeries("train (smoothed)", x(steps), acc).setMarker(SeriesMarkers.NONE);
        if (!evalSteps.isEmpty()) {
            a.addSeries("test top-1", x(evalSteps), evalTop1);
            a.getStyler().setLegendVisible(true);
        }
        double from = steps.isEmpty() ? 0 : 0.1 * steps.get(steps.size() - 1);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) >= from && Double.isFinite(acc.get(i))) {
                lo = Math.min(lo, acc.get(i));
                hi = Math.max(hi, acc.get(i));
            }
        }
        for (double v : evalTop1) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (Double.isFinite(lo)) {
            a.getStyler().setYAxisMin(Math.max(0, Math.floor(lo * 20 - 0.2) / 20));
            a.getStyler().setYAxisMax(Math.min(1, Math.ceil(hi * 20 + 0.2) / 20));
        }
        return a;
    }

    /** Renders the four panels now. */
    public void draw() {
        if (steps.size() < 2) {
            return;
        }
        XYChart l = chart("training loss (smoothed)", "loss");
        l.addSeries("train", x(steps), loss).setMarker(SeriesMarkers.NONE);
        XYChart a = accuracyChart();
        XYChart r = chart("learning rate", "lr");
        r.addSeries("lr", x(steps), lr).setMarker(SeriesMarkers.NONE);
        XYChart g = chart("AGC: fraction of units clipped", "fraction");
        g.addSeries("clipped", x(steps), clipped).setMarker(SeriesMarkers.NONE);
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
        c.getStyler().setLegendVisible(true);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        groupClipped.forEach((g, l) -> {
            if (l.size() == agcSteps.size()) {
                c.addSeries(g, x(agcSteps), l).setMarker(SeriesMarkers.NONE);
            }
        });
        XYChart r = chart("AGC: largest ||g|| / max(||w||, eps) over all units (smoothed)", "ratio");
        r.getStyler().setYAxisLogarithmic(true);
        r.addSeries("max ratio", x(agcSteps), maxRatio).setMarker(SeriesMarkers.NONE);
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
