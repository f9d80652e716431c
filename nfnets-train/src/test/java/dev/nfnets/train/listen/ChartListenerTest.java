package dev.nfnets.train.listen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartListenerTest {
    /** A long run (46,900 steps, 10 epochs) whose accuracy sits at 85-93% after the first steps. */
    static ChartListener longRun(Path dir) {
        ChartListener c = new ChartListener(dir, 117);
        long total = 46_900;
        for (long s = 1; s <= total; s++) {
            double acc = 0.93 - 0.8 * Math.exp(-s / 300.0) - 0.05 * Math.exp(-s / 10_000.0);
            c.onStep(new StepMetrics(s, total, (int) ((s - 1) / 4690), 2 * (1 - acc), acc, 0.1 * (1 - (double) s / total),
                    1000, 0.01, 0.1, s / 100.0));
            if (s % 4690 == 0) {
                c.onEpoch(new EpochMetrics((int) (s / 4690) - 1, s, 0.3, acc, 0.88 + 0.005 * (s / 4690), 0.99, 0.3, true, s / 100.0));
            }
        }
        return c;
    }

    @Test
    void accuracyAxisIsZoomedToTheDataAndLegendsAreCompact(@TempDir Path dir) throws Exception {
        ChartListener c = longRun(dir);
        XYChart a = c.accuracyChart();
        assertTrue(a.getStyler().getYAxisMin() >= 0.8, "y from " + a.getStyler().getYAxisMin());
        assertTrue(a.getStyler().getYAxisMax() <= 1.0 && a.getStyler().getYAxisMax() >= 0.93, "y to " + a.getStyler().getYAxisMax());
        assertTrue(a.getStyler().isLegendVisible(), "two series: a legend");
        assertTrue(c.inThousands());
        assertEquals(50.0, a.getStyler().getXAxisMax(), 1e-9, "a round end: 46.9 thousand steps -> 50");
        assertEquals(500.0, ChartListener.roundUp(469), 1e-9);
        assertEquals(1000.0, ChartListener.roundUp(1000), 1e-9);
        assertEquals(2.5, ChartListener.roundUp(2.2), 1e-9);
        assertEquals("step (thousands)", a.getXAxisTitle());
        assertEquals(46.8, a.getSeriesMap().get("train (smoothed)").getXData()[399], 1e-9);
        c.onEnd(46_900, null);
        BufferedImage img = ImageIO.read(dir.resolve(ChartListener.FILE).toFile());
        assertEquals(1280, img.getWidth());
        assertEquals(800, img.getHeight());
    }

    @Test
    void shortRunsKeepPlainStepNumbers(@TempDir Path dir) {
        ChartListener c = new ChartListener(dir, 1);
        for (long s = 1; s <= 50; s++) {
            c.onStep(new StepMetrics(s, 50, 0, 1.0 / s, 0.5, 0.1, 100, 0, 0, s));
        }
        XYChart a = c.accuracyChart();
        assertFalse(c.inThousands());
        assertEquals("step", a.getXAxisTitle());
        assertFalse(a.getStyler().isLegendVisible(), "one series: no legend");
    }
}
