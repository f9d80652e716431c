package dev.nfnets.examples;

import dev.nfnets.core.NFBlock;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.memory.StepScope;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A signal propagation plot (Brock, De, Smith 2021) of an NFNet at initialisation: feeds N(0, 1) noise through
 * a freshly initialised network and records, per block, the average channel variance of the residual stream
 * and of the residual branch's input {@code act(x) * beta}, next to the variance the {@code beta} bookkeeping
 * assumes ({@code 1 + k alpha^2} after the k-th block of a stage).
 *
 * <pre>
 *   java ... dev.nfnets.examples.SignalPropagation [OUT=signal-propagation.png] [MODEL=f0] [SIZE=64] [BATCH=4] [NOISE_BLOCK=1]
 * </pre>
 *
 * At initialisation every SkipInit gain is 0, which switches the residual branches off; the stream is therefore
 * measured twice, with the gains as initialised and with the gains set to 1. The figure has two panels: the
 * model as configured (logarithmic axis: the 2x2 average pool in each transition block's shortcut divides the
 * variance of spatially uncorrelated features by about 4), and the same model with every stage stride set to 1,
 * where no shortcut pools and the {@code beta} bookkeeping can be compared with the measurement directly.
 * {@code NOISE_BLOCK > 1} makes the noise constant over squares of that many pixels (spatially correlated input).
 */
public final class SignalPropagation {
    private SignalPropagation() {
    }

    /**
     * One block's measurements (average channel variances): the residual stream entering and leaving the block,
     * the input of its residual branch, and the output variance the {@code beta} bookkeeping assumes.
     */
    public record BlockStats(int block, int stage, double inputVariance, double outputVariance,
                             double branchInputVariance, double expectedVariance) {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "signal-propagation.png");
        NFNetConfig config = NFNetConfig.byName(args.length > 1 ? args[1] : "f0");
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        int noiseBlock = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        // the same network without down-sampling: no shortcut average-pools, projections are plain 1x1 convs on h
        int[] ones = new int[config.stageStrides().length];
        java.util.Arrays.fill(ones, 1);
        NFNetConfig noPool = NFNetConfig.builder(config).name(config.name() + ", stage strides 1").stageStrides(ones).build();

        List<XYChart> charts = new ArrayList<>();
        for (NFNetConfig c : List.of(config, noPool)) {
            List<BlockStats> active = measure(c, size, batch, noiseBlock, 1.0, 0);
            List<BlockStats> asInit = measure(c, size, batch, noiseBlock, 0.0, 0);
            print(c, active, asInit);
            charts.add(chart(c, String.format(Locale.ROOT, "%s: N(0,1) input %dx%d, batch %d", c.name(), size, size, batch),
                    active, asInit, c == config));
        }
        save(charts, out);
        System.out.println("wrote " + out.toAbsolutePath());
    }

    private static void print(NFNetConfig c, List<BlockStats> active, List<BlockStats> asInit) {
        System.out.println(c.name() + "\nblock stage | skip gains 1: var(in)  var(out)  expected  var(act(x)*beta) | skip gains 0: var(out)");
        for (int i = 0; i < active.size(); i++) {
            BlockStats a = active.get(i);
            System.out.printf(Locale.ROOT, "%5d %5d | %20.4f  %8.4f  %8.4f  %16.4f | %21.4f%n", a.block(), a.stage(),
                    a.inputVariance(), a.outputVariance(), a.expectedVariance(), a.branchInputVariance(),
                    asInit.get(i).outputVariance());
        }
    }

    /**
     * Runs {@code batch} images of N(0, 1) noise ({@code size} pixels square, constant over
     * {@code noiseBlock x noiseBlock} squares) through a freshly initialised model in inference mode, with every
     * skip gain set to {@code skipGain}, and measures each block.
     */
    @SuppressWarnings("try")   // the scope is opened for its side effect
    public static List<BlockStats> measure(NFNetConfig config, int size, int batch, int noiseBlock, double skipGain,
                                           long seed) {
        NFNet model = new NFNet(config);
        redrawKernels(model, seed);
        for (NFBlock b : model.blocks()) {
            b.skipGain().value().assign(skipGain);
        }
        double gamma = config.effectiveGamma();
        double alpha2 = config.alpha() * config.alpha();
        List<BlockStats> out = new ArrayList<>();
        try (StepScope ignored = StepScope.open("signal-propagation")) {
            INDArray x = model.stem().forward(noise(batch, config.inChannels(), size, noiseBlock, seed), Mode.EVAL);
            double expected = 1;
            for (NFBlock block : model.blocks()) {
                NFBlock.BlockSpec s = block.spec();
                // what the block feeds its residual branch (and, in transition blocks, its shortcut)
                INDArray h = config.activationFunction().apply(x).muli(gamma * s.beta());
                double in = channelVariance(x);
                x = block.forward(x, Mode.EVAL);
                expected = (s.indexInStage() == 0 ? 1 : expected) + alpha2;
                out.add(new BlockStats(s.index(), s.stage(), in, channelVariance(x), channelVariance(h), expected));
            }
        }
        return out;
    }

    /**
     * Redraws every kernel from N(0, 1/fan-in), the library's initialisation, with a seeded Java generator, so
     * the measurement does not depend on ND4J's global generator (which does not repeat itself after
     * {@code setSeed(0)}). Kernels are stored with the output dimension last (HWIO, or (in, out) for dense).
     */
    static void redrawKernels(NFNet model, long seed) {
        Random r = new Random(seed);
        for (Parameter p : model.namedParameters().values()) {
            if (p.hasTag(Tag.WEIGHT)) {
                long[] shape = p.shape();
                double std = Math.sqrt((double) shape[shape.length - 1] / p.size());
                float[] w = new float[(int) p.size()];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (r.nextGaussian() * std);
                }
                p.assign(Nd4j.create(w, shape, 'c'));
            }
        }
    }

    /** N(0, 1) noise of shape {@code (batch, channels, size, size)}, constant over {@code block x block} squares. */
    static INDArray noise(int batch, int channels, int size, int block, long seed) {
        Random r = new Random(seed);
        int coarse = (size + block - 1) / block;
        float[] out = new float[batch * channels * size * size];
        for (int plane = 0; plane < batch * channels; plane++) {
            float[] g = new float[coarse * coarse];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) r.nextGaussian();
            }
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    out[(plane * size + y) * size + x] = g[(y / block) * coarse + x / block];
                }
            }
        }
        return Nd4j.create(out, new long[] {batch, channels, size, size}, 'c');
    }

    /** Variance of each channel over batch and space, averaged over channels. */
    static double channelVariance(INDArray nchw) {
        return nchw.var(false, 0, 2, 3).meanNumber().doubleValue();
    }

    /** Both measurements against block number (1-based), stage transitions as vertical lines. */
    public static XYChart chart(NFNetConfig config, String title, List<BlockStats> active, List<BlockStats> asInit,
                                boolean logarithmic) {
        double[] blocks = active.stream().mapToDouble(b -> b.block() + 1).toArray();
        XYChart chart = new XYChartBuilder().width(800).height(560).title(title)
                .xAxisTitle("block (vertical lines: stage transitions)").yAxisTitle("average channel variance").build();
        XYStyler st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setLegendPosition(Styler.LegendPosition.InsideSW);
        st.setYAxisLogarithmic(logarithmic);
        if (!logarithmic) {
            st.setYAxisMin(0.0);
        }
        chart.addSeries("assumed by beta: 1 + k alpha^2 (alpha = " + config.alpha() + ")", blocks,
                active.stream().mapToDouble(BlockStats::expectedVariance).toArray())
                .setMarker(SeriesMarkers.NONE).setLineStyle(SeriesLines.DASH_DASH);
        chart.addSeries("residual stream after the block, skip gains 1", blocks,
                active.stream().mapToDouble(BlockStats::outputVariance).toArray()).setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("residual branch input act(x) * beta, skip gains 1", blocks,
                active.stream().mapToDouble(BlockStats::branchInputVariance).toArray()).setMarker(SeriesMarkers.DIAMOND);
        chart.addSeries("residual stream after the block, skip gains 0 (as initialised)", blocks,
                asInit.stream().mapToDouble(BlockStats::outputVariance).toArray()).setMarker(SeriesMarkers.SQUARE);
        for (int i = 1; i < active.size(); i++) {
            if (active.get(i).stage() != active.get(i - 1).stage()) {
                chart.addAnnotation(new AnnotationLine(i + 0.5, true, false));
            }
        }
        return chart;
    }

    /** Writes the charts side by side into one PNG. */
    public static void save(List<XYChart> charts, Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream os = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(charts, 1, charts.size(), os, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
