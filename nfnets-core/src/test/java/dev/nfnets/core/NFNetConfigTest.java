package dev.nfnets.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NFNetConfigTest {

    @ParameterizedTest(name = "F{0}")
    @CsvSource({"0, 71489284", "1, 132634256", "2, 193779228", "3, 254924200", "4, 316069172", "5, 377214144",
            "6, 438359116", "7, 499504088"})
    void parameterCountsMatchTheSpec(int k, long expected) {
        assertEquals(expected, ModelSummary.of(NFNetConfig.variant(k), 256).totalParams());
    }

    @Test
    void f0MacsAtTestAndTrainSize() {
        assertEquals(12_384_198_656L, ModelSummary.of(NFNetConfig.f0(), 256).totalMacs());
        assertEquals(6_977_003_520L, ModelSummary.of(NFNetConfig.f0(), 192).totalMacs());
    }

    @Test
    void f0BlockPlanMatchesSpecTable() {
        List<NFBlock.BlockSpec> b = NFNetConfig.f0().blocks();
        assertEquals(12, b.size());
        double[] betas = {1.0, 0.980581, 0.980581, 0.962250, 0.980581, 0.962250, 0.944911, 0.928477, 0.912871, 0.898027,
                0.980581, 0.962250};
        int[] groups = {1, 2, 2, 6, 6, 6, 6, 6, 6, 6, 6, 6};
        for (int i = 0; i < 12; i++) {
            assertEquals(betas[i], b.get(i).beta(), 1e-6, "beta of block " + i);
            assertEquals(groups[i], b.get(i).groups(), "groups of block " + i);
            assertEquals(0.25 * i / 12, b.get(i).stochDepthRate(), 1e-12);
        }
        assertTrue(b.get(0).projection() && b.get(1).projection() && !b.get(2).projection() && b.get(9).projection());
        assertEquals(768, b.get(5).seHidden());
    }

    @Test
    void f0ShapesAt256() {
        ModelSummary s = ModelSummary.of(NFNetConfig.f0(), 256);
        assertArrayEquals(new long[] {128, 64, 64}, s.rows().get(3).outputShape());
        assertArrayEquals(new long[] {3072, 8, 8}, s.rows().get(s.rows().size() - 2).outputShape());
        assertTrue(s.render().contains("params: 71489284\nmacs@256: 12384198656"));
    }

    @Test
    void zeroGroupsIsAClearError() {
        NFNetConfig bad = NFNetConfig.builder(NFNetConfig.f0()).stageWidths(128, 512, 1536, 1536).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::blocks);
        assertTrue(e.getMessage().contains("0 groups"), e.getMessage());
    }

    @Test
    void mismatchedArraysRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> NFNetConfig.builder(NFNetConfig.f0()).stageDepths(1, 2, 3).build());
        assertThrows(IllegalArgumentException.class, () -> NFNetConfig.builder().activation("mish").build());
        assertThrows(IllegalArgumentException.class, () -> NFNetConfig.byName("f9"));
    }

    @Test
    void builtModelCountMatchesSummary() {
        NFNetConfig m = NFNetConfig.mnist();
        assertEquals(ModelSummary.of(m, 28).totalParams(), new NFNet(m).parameterCount());
    }
}
