package dev.nfnets.train;

import dev.nfnets.core.NFNetConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingConfigTest {
    @Test
    void referenceRecipe() {
        TrainingConfig c = TrainingConfig.reference(NFNetConfig.f0(), 4096, 360);
        assertEquals(1.6, c.peakLearningRate(), 1e-12);     // 0.1 * 4096 / 256
        assertEquals(0.9, c.momentum());
        assertEquals(2e-5, c.weightDecay());
        assertEquals(0.01, c.clipping());
        assertEquals(1e-3, c.agcEps());
        assertTrue(c.agcSkipGains());
        assertEquals(0.1, c.labelSmoothing());
        assertEquals(0.99999, c.emaDecay());
        assertEquals(5, c.warmupEpochs());
        assertEquals(4, c.randAugmentLayers());
        assertEquals(5, c.randAugmentMagnitude());
        assertEquals(0.2, c.model().dropRate());
        assertEquals(0.25, c.model().stochDepthRate());
    }

    @Test
    void jsonRoundTrip() {
        TrainingConfig c = TrainingConfig.builder(NFNetConfig.mnist()).epochs(7).learningRate(0.3).mixupAlpha(0.2).seed(9).build();
        assertEquals(c, TrainingConfig.fromJson(c.toJson()));
        TrainingConfig e = c.toBuilder().agcSkipGains(false).build();
        assertEquals(e, TrainingConfig.fromJson(e.toJson()));
        assertFalse(TrainingConfig.fromJson(e.toJson()).agcSkipGains());
        TrainingConfig d = TrainingConfig.builder(NFNetConfig.mnist()).build();
        assertEquals(d.peakLearningRate(), TrainingConfig.fromJson(d.toJson()).peakLearningRate());
    }

    @Test
    void agcCanExemptTheSkipGains() {
        dev.nfnets.core.NFNet net = new dev.nfnets.core.NFNet(NFNetConfig.mnist(), 1);
        java.util.Map<String, dev.nfnets.layers.Parameter> ps = net.namedParameters();
        TrainingConfig reference = TrainingConfig.builder(NFNetConfig.mnist()).build();
        TrainingConfig exempt = reference.toBuilder().agcSkipGains(false).build();
        String skip = "stages.0.0.skip_gain";
        assertTrue(Trainer.agcApplies(reference).test(ps.get(skip)));
        assertFalse(Trainer.agcApplies(exempt).test(ps.get(skip)));
        for (String name : new String[] {"stages.0.0.conv1.gain", "stem.conv0.weight", "classifier.bias"}) {
            assertTrue(Trainer.agcApplies(exempt).test(ps.get(name)), name);
        }
        assertFalse(Trainer.agcApplies(reference).test(ps.get("classifier.weight")));
        assertFalse(Trainer.agcApplies(exempt).test(ps.get("classifier.weight")));
    }

    @Test
    void emaWarmsUpLikeTheReference() {
        Ema e = new Ema(java.util.Map.of(), 0.99999);
        assertEquals(0.1, e.decayAt(0), 1e-12);
        assertEquals(101.0 / 110, e.decayAt(100), 1e-12);
        assertEquals(0.99999, e.decayAt(100_000_000), 1e-12);
    }

    @Test
    void invalidValuesRejected() {
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder(NFNetConfig.mnist()).batchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder(NFNetConfig.mnist()).momentum(1.0).build());
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder(NFNetConfig.mnist()).learningRate(-1).build());
    }
}
