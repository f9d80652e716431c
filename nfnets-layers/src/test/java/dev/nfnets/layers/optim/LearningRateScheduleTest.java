package dev.nfnets.layers.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LearningRateScheduleTest {
    @Test
    void referenceWarmupCosine() {
        // the NFNet ImageNet recipe: peak 1.6, W = 5*1281167/4096 = 1563.94.., T = 112602
        double w = 5 * 1281167 / 4096.0;
        LearningRateSchedule s = LearningRateSchedule.warmupCosine(1.6, w, 112602);
        assertEquals(0.0, s.at(0), 0.0);
        assertEquals(1.6 * 1000 / w, s.at(1000), 1e-12);
        assertEquals(1.6 * 1563 / w, s.at(1563), 1e-12);           // still warming up (W is fractional)
        double t = 1564;
        assertEquals(0.8 * (1 + Math.cos(Math.PI * (t - w) / (112602 - w))), s.at(1564), 1e-12);
        double mid = w + (112602 - w) / 2;
        assertEquals(0.8, s.at((long) Math.round(mid)), 1e-4);
        assertEquals(0.0, s.at(112602), 0.0);
    }

    @Test
    void constantAndValidation() {
        assertEquals(0.3, LearningRateSchedule.constant(0.3).at(99), 0.0);
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.warmupCosine(1, 10, 5));
    }
}
