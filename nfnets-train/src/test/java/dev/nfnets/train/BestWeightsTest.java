package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.train.listen.EpochMetrics;
import dev.nfnets.train.listen.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BestWeightsTest {
    @Test
    void theBestEpochsWeightsAreKeptBesideTheLastWithTheClassNames(@TempDir Path dir) throws Exception {
        ToyDataset train = new ToyDataset(128, 4, 8, 1);
        ToyDataset test = new ToyDataset(64, 4, 8, 2);
        TrainingConfig c = TrainingConfig.builder(TrainerTest.tiny(4)).batchSize(32).epochs(4).learningRate(0.2).warmupEpochs(0.5)
                .emaDecay(0.5).seed(3).build();
        Trainer t = new Trainer(c, train, test, dir);
        List<Double> top1 = new ArrayList<>();
        t.addListener(new TrainingListener() {
            @Override
            public void onEpoch(EpochMetrics m) {
                top1.add(m.testTop1());
            }
        });
        t.fit();
        assertEquals(4, top1.size());
        double max = top1.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        Trainer.Best best = t.best().orElseThrow();
        assertEquals(max, best.top1());
        assertEquals(top1.indexOf(max), best.epoch());

        NFNet loaded = NFNets.load(dir.resolve(Trainer.BEST_WEIGHTS_FILE));
        assertEquals(max, Evaluator.evaluate(loaded, test, 100, false).top1(), 1e-9, "the file holds the evaluated weights");
        assertEquals(train.classNames(), loaded.classNames().orElseThrow());
        assertEquals(train.classNames(), NFNets.load(dir).classNames().orElseThrow());
        String saved = Safetensors.read(dir.resolve(Trainer.CHECKPOINT_FILE)).metadata().get("best");
        assertTrue(saved != null && saved.startsWith(best.epoch() + "," + best.step() + ","), saved);
    }
}
