package dev.nfnets.examples;

import dev.nfnets.core.NFBlock;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.ForwardingDataset;
import dev.nfnets.train.data.FashionMnist;
import dev.nfnets.train.data.Split;
import dev.nfnets.train.listen.ChartListener;
import dev.nfnets.train.listen.CsvMetricsListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs every example program in a configuration small enough for seconds. */
class ExamplesTest {

    /** A two-stage NFNet with all the parts of the real one, a few thousand parameters. */
    static NFNetConfig tiny(int inChannels, int classes, int size) {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").inChannels(inChannels).numClasses(classes)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).trainSize(size).testSize(size).build();
    }

    static void writePng(Path file, int w, int h, long seed, int tint) throws IOException {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = r.nextInt(64);
                img.setRGB(x, y, tint == 0 ? (v + 160) << 16 | v << 8 | v : v << 16 | v << 8 | (v + 160));
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    /** The first {@code n} examples of {@code d}: keeps evaluation in the tests short. */
    static final class FirstN extends ForwardingDataset {
        private final int n;

        FirstN(Dataset d, int n) {
            super(d);
            this.n = n;
        }

        @Override
        public int size() {
            return Math.min(n, delegate().size());
        }

        @Override
        public void get(int index, float[] dstCHW) {
            super.get(java.util.Objects.checkIndex(index, size()), dstCHW);
        }

        @Override
        public int label(int index) {
            return super.label(java.util.Objects.checkIndex(index, size()));
        }

        @Override
        public String description() {
            return "first " + size() + " of " + delegate().description();
        }
    }

    @Test
    void trainFashionMnistWritesARunFolderAndEvaluates(@TempDir Path dir) throws Exception {
        TrainingConfig c = TrainFashionMnist.config(tiny(1, 10, 28), 1, 3).toBuilder().batchSize(16).build();
        Trainer.Result r = TrainFashionMnist.train(c, FashionMnist.loadEmbedded(Split.TRAIN),
                new FirstN(FashionMnist.loadEmbedded(Split.TEST), 200), dir);
        assertEquals(3, r.steps());
        assertEquals(200, r.test().examples());
        for (String f : List.of(Trainer.CHECKPOINT_FILE, Trainer.WEIGHTS_FILE, CsvMetricsListener.STEPS_FILE,
                CsvMetricsListener.EPOCHS_FILE, ChartListener.FILE)) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertEquals(4, Files.readAllLines(dir.resolve(CsvMetricsListener.STEPS_FILE)).size());

        // the documented ClassifyImages command on this run: Fashion-MNIST's names, from the weights themselves
        Path png = dir.resolve("boot.png");
        writePng(png, 28, 28, 2, 0);
        NFNet run = ClassifyImages.loadModel(dir, null);
        List<Prediction> top = ClassifyImages.classify(run, List.of(png), 10).get(0);
        assertTrue(top.stream().anyMatch(p -> p.label().equals("Ankle boot")), top.toString());
        assertTrue(top.stream().noneMatch(p -> p.label().startsWith("class ")), top.toString());
    }

    @Test
    void classifyImagesReadsANativeWeightFileAndRanksTheClasses(@TempDir Path dir) throws Exception {
        NFNet model = new NFNet(tiny(3, 4, 32));
        Path weights = dir.resolve("tiny.safetensors");
        Weights.save(model, weights, WeightFormat.NATIVE);
        Path png = dir.resolve("image.png");
        writePng(png, 40, 30, 1, 0);

        NFNet loaded = ClassifyImages.loadModel(weights, null);
        List<List<Prediction>> result = ClassifyImages.classify(loaded, List.of(png), 5);

        List<Prediction> top = result.get(0);
        assertEquals(4, top.size(), "top-5 is capped at the class count");
        for (int i = 1; i < top.size(); i++) {
            assertTrue(top.get(i - 1).probability() >= top.get(i).probability());
        }
        assertEquals(1.0, top.stream().mapToDouble(Prediction::probability).sum(), 1e-6);
        assertEquals(NFNets.classifier(model).classify(png, 4), top, "same answer as the model that was saved");
    }

    @Test
    void fineTuneReplacesTheClassifierAndKeepsFrozenLayers(@TempDir Path dir) throws Exception {
        NFNetConfig pretrainedConfig = tiny(3, 5, 32);
        NFNet pretrained = new NFNet(pretrainedConfig);
        for (NFBlock b : pretrained.blocks()) {
            b.skipGain().value().assign(1);   // as after pre-training: the residual branches are switched on
        }
        Path weights = dir.resolve("pretrained.safetensors");
        Weights.save(pretrained, weights, WeightFormat.NATIVE);
        for (String cls : List.of("cat", "dog")) {
            for (int i = 0; i < 6; i++) {
                writePng(dir.resolve("data").resolve(cls).resolve(i + ".png"), 32, 32, 10L * i + cls.length(),
                        cls.equals("cat") ? 0 : 1);
            }
        }

        FineTuneOnFolder.Settings s = new FineTuneOnFolder.Settings(32, 4, 1, 3, 0.1, 1, 0);
        Trainer.Result r = FineTuneOnFolder.fineTune(FineTuneOnFolder.configInside(weights), weights, dir.resolve("data"),
                dir.resolve("run"), s);

        assertEquals(3, r.steps());
        assertEquals(12, r.test().examples());
        assertEquals(List.of("cat", "dog"), Files.readAllLines(dir.resolve("run").resolve("classes.txt")));
        NFNet tuned = NFNets.load(r.weights());
        assertEquals(2, tuned.config().numClasses());
        assertEquals(0.25, tuned.config().dropRate());
        assertArrayEquals(new long[] {32, 2}, tuned.classifier().weight().shape());
        var before = pretrained.namedParameters();
        var after = tuned.namedParameters();
        assertTrue(maxRelDiff(before.get("stem.conv0.weight").value(), after.get("stem.conv0.weight").value()) < 1e-6,
                "the stem is frozen");
        assertTrue(maxRelDiff(before.get("stages.0.0.conv1.weight").value(), after.get("stages.0.0.conv1.weight").value()) < 1e-6,
                "stage 0 is frozen");
        assertTrue(maxRelDiff(before.get("stages.1.0.conv2.weight").value(), after.get("stages.1.0.conv2.weight").value()) > 1e-6,
                "stage 1 is trained");
    }

    static double maxRelDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.sub(b), false).maxNumber().doubleValue() / a.amaxNumber().doubleValue();
    }

    @Test
    void benchmarkStepTimesForwardAndTrainingSteps() {
        BenchmarkStep.Timing t = BenchmarkStep.measure(tiny(3, 4, 32), 2, 32, 1, 2);
        assertTrue(t.forwardMs() > 0 && Double.isFinite(t.forwardMs()), t.toString());
        assertTrue(t.trainStepMs() > 0 && Double.isFinite(t.trainStepMs()), t.toString());
        assertTrue(t.trainImagesPerSecond() > 0);
    }

    @Test
    void signalPropagationFollowsTheBetaBookkeepingAndPlots(@TempDir Path dir) throws Exception {
        NFNetConfig c = NFNetConfig.builder(tiny(3, 4, 16)).stageDepths(2, 3).build();
        List<SignalPropagation.BlockStats> active = SignalPropagation.measure(c, 16, 2, 1, 1.0, 0);
        List<SignalPropagation.BlockStats> asInit = SignalPropagation.measure(c, 16, 2, 1, 0.0, 0);

        assertEquals(5, active.size());
        assertEquals(active, SignalPropagation.measure(c, 16, 2, 1, 1.0, 0), "seeded: the same numbers every time");
        double a2 = c.alpha() * c.alpha();
        double[] expected = {1 + a2, 1 + 2 * a2, 1 + a2, 1 + 2 * a2, 1 + 3 * a2};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], active.get(i).expectedVariance(), 1e-12);
            assertTrue(active.get(i).outputVariance() > 0 && Double.isFinite(active.get(i).outputVariance()));
        }
        // with the SkipInit gains at 0 an identity block passes its input through unchanged
        assertEquals(asInit.get(1).inputVariance(), asInit.get(1).outputVariance(), 0.0);
        assertEquals(asInit.get(4).inputVariance(), asInit.get(4).outputVariance(), 0.0);
        // with the gains at 1 it adds the branch's variance
        assertTrue(active.get(4).outputVariance() > active.get(4).inputVariance());

        Path png = dir.resolve("plots").resolve("spp.png");
        SignalPropagation.save(List.of(SignalPropagation.chart(c, "tiny", active, asInit, true),
                SignalPropagation.chart(c, "tiny", active, asInit, false)), png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(1600, img.getWidth());
    }
}
