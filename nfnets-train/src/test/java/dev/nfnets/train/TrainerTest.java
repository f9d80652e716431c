package dev.nfnets.train;

import dev.nfnets.core.NFNetConfig;
import dev.nfnets.train.listen.CsvMetricsListener;
import dev.nfnets.train.listen.StepMetrics;
import dev.nfnets.train.listen.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    static NFNetConfig tiny(int classes) {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").numClasses(classes)
                .stem(new int[] {8, 16}, new int[] {1, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).dropRate(0.1).stochDepthRate(0.1).build();
    }

    static TrainingConfig config(long steps) {
        return TrainingConfig.builder(tiny(4)).batchSize(16).epochs(100).maxSteps(steps).learningRate(0.1)
                .warmupEpochs(0.1).cropPadding(1).flip(true).emaDecay(0.9).checkpointEvery(5).seed(7).build();
    }

    /** Records the loss of every step. */
    static final class Losses implements TrainingListener {
        final List<Double> values = new ArrayList<>();

        @Override
        public void onStep(StepMetrics m) {
            values.add(m.loss());
        }
    }

    static double[] array(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void learnsTheToyProblemAndWritesItsOutputs(@TempDir Path dir) throws Exception {
        ToyDataset train = new ToyDataset(256, 4, 8, 1);
        ToyDataset test = new ToyDataset(128, 4, 8, 2);
        TrainingConfig c = TrainingConfig.builder(tiny(4)).batchSize(32).epochs(6).learningRate(0.2).warmupEpochs(0.5)
                .emaDecay(0.9).seed(3).build();
        Trainer t = new Trainer(c, train, test, dir);
        t.addListener(new CsvMetricsListener(dir));
        Trainer.Result r = t.fit();
        assertEquals(48, r.steps());
        assertTrue(r.test().top1() > 0.9, "toy problem should be learned: " + r.test());
        assertTrue(Files.size(dir.resolve(Trainer.CHECKPOINT_FILE)) > 0);
        assertTrue(Files.size(dir.resolve(Trainer.WEIGHTS_FILE)) > 0);
        assertEquals(49, Files.readAllLines(dir.resolve(CsvMetricsListener.STEPS_FILE)).size());
        assertEquals(7, Files.readAllLines(dir.resolve(CsvMetricsListener.EPOCHS_FILE)).size());
    }

    @Test
    void sameSeedGivesTheSameRun(@TempDir Path dir) throws Exception {
        ToyDataset train = new ToyDataset(128, 4, 8, 1);
        Losses a = new Losses();
        new Trainer(config(8), train, null, dir.resolve("a")).addListener(a).fit();
        Losses b = new Losses();
        new Trainer(config(8), train, null, dir.resolve("b")).addListener(b).fit();
        assertArrayEquals(array(a.values), array(b.values));
    }

    @Test
    void interruptedAndResumedRunMatchesAnUninterruptedOneBitwise(@TempDir Path dir) throws Exception {
        ToyDataset train = new ToyDataset(128, 4, 8, 1);   // 8 batches per epoch: the resume crosses an epoch boundary
        Losses full = new Losses();
        new Trainer(config(14), train, null, dir.resolve("full")).addListener(full).fit();

        Path run = dir.resolve("interrupted");
        Losses first = new Losses();
        Trainer t1 = new Trainer(config(14), train, null, run).addListener(first).addListener(new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == 12) {
                    throw new IllegalStateException("simulated crash after step 12");
                }
            }
        });
        assertThrows(IllegalStateException.class, t1::fit);
        // the last checkpoint is from step 10
        Losses second = new Losses();
        Trainer t2 = new Trainer(config(14), train, null, run).addListener(second);
        t2.resume(run.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(10, t2.step());
        t2.fit();
        double[] expected = array(full.values.subList(10, 14));
        assertArrayEquals(expected, array(second.values), "losses after resuming must be bitwise identical");
    }

    @Test
    void divergenceStopsWithANameAndKeepsTheLastCheckpoint(@TempDir Path dir) throws Exception {
        ToyDataset train = new ToyDataset(128, 4, 8, 1);
        TrainingConfig c = config(40).toBuilder().learningRate(1e9).clipping(0).warmupEpochs(0).checkpointEvery(1).build();
        Trainer t = new Trainer(c, train, null, dir);
        DivergenceException e = assertThrows(DivergenceException.class, t::fit);
        assertTrue(e.getMessage().contains("diverged at step"), e.getMessage());
        assertTrue(e.what().equals("loss") || e.what().startsWith("parameter "), e.what());
        Checkpoint.State s = Checkpoint.read(dir.resolve(Trainer.CHECKPOINT_FILE));
        assertTrue(s.step() < e.step() + 1, "checkpoint step " + s.step() + " must precede the divergence at " + e.step());
        for (var v : s.model().values()) {
            assertTrue(Double.isFinite(v.sumNumber().doubleValue()), "the kept checkpoint holds finite weights");
        }
    }

    @Test
    void mismatchedDataIsAClearError(@TempDir Path dir) {
        ToyDataset train = new ToyDataset(64, 3, 8, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(config(4), train, null, dir));
        assertTrue(e.getMessage().contains("3 classes") && e.getMessage().contains("4 outputs"), e.getMessage());
    }
}
