package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scoring never reports a confident answer for broken logits; a resume may change the schedule when asked. */
class ScoringAndResumeTest {
    @Test
    void tiesAndNaNAreNeverCorrect() {
        assertEquals(3, Evaluator.rankOf(new float[] {0, 0, 0, 0}, 2));   // an all-zero classifier: no hit
        assertEquals(0, Evaluator.rankOf(new float[] {0, 1, 0, 0}, 1));
        assertEquals(1, Evaluator.rankOf(new float[] {1, 1, 0, -1}, 1));   // a tie with another class is not top-1
        assertEquals(1, Evaluator.rankOf(new float[] {Float.NaN, 2, 0}, 1));   // NaN is not "below" the true logit
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Evaluator.requireFinite(new float[][] {{0, 1}, {Float.NaN, 1}}, 3, 24));
        assertTrue(e.getMessage().contains("evaluation batch 3 (examples 24..25): the logit of class 0 for example 25 is NaN"), e.getMessage());
    }

    @Test
    void aModelWithANaNWeightFailsTheEvaluationNamingTheBatch() {
        NFNet model = new NFNet(TrainerTest.tiny(4), 1);
        model.namedParameters().get("classifier.bias").value().putScalar(1, Float.NaN);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Evaluator.evaluate(model, new ToyDataset(16, 4, 8, 3), 8));
        assertTrue(e.getMessage().startsWith("evaluation batch 1 (examples 1..8): the logit of class 1 for example 1 is NaN"), e.getMessage());
    }

    @Test
    void aCheckpointCarriesAChecksumAndADamagedOneIsRefused(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        TrainingConfig c = TrainerTest.config(10);
        NFNet model = new NFNet(c.model(), 1);
        Path f = dir.resolve(Trainer.CHECKPOINT_FILE);
        Checkpoint.save(f, 3, c, model, dev.nfnets.layers.optim.Sgd.builder().learningRate(0.1).build(), null);
        assertEquals(3, Checkpoint.read(f).step());
        byte[] bytes = java.nio.file.Files.readAllBytes(f);
        bytes[bytes.length - 5] ^= 0x04;
        java.nio.file.Files.write(f, bytes);
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> Checkpoint.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void aResumeMayChangeTheScheduleOnlyWhenGivenExplicitly() {
        TrainingConfig saved = TrainerTest.config(10);
        TrainingConfig lower = saved.toBuilder().learningRate(saved.peakLearningRate() / 10).clipping(0.01).build();
        Path ckpt = Path.of("run", "checkpoint.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.checkResumable(saved, lower, ckpt));
        assertTrue(e.getMessage().contains("may change when given explicitly"), e.getMessage());
        Trainer.checkResumable(saved, lower, ckpt, true);
        TrainingConfig otherDecay = lower.toBuilder().weightDecay(0.5).build();
        assertThrows(IllegalArgumentException.class, () -> Trainer.checkResumable(saved, otherDecay, ckpt, true));
        String advice = new DivergenceException(7, "loss", Double.NaN).getMessage();
        assertTrue(advice.contains("--resume") && advice.contains("--lr"), advice);
    }
}
