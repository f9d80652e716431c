package dev.nfnets.layers;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerProfilerTest {
    /** A profiled layer that calls a profiled child and then sleeps, so that its self time is known from below. */
    static final class Outer extends AbstractLayer {
        final Linear inner = addChild(new Linear("inner", 4, 3, 0.1, true, Tag.CLASSIFIER));

        Outer() {
            super("outer");
        }

        @Override
        public INDArray forward(INDArray x, Mode mode) {
            return profileForward(x, () -> {
                INDArray y = inner.forward(x, mode);
                sleep(20);
                return y;
            });
        }

        @Override
        public INDArray backward(INDArray g) {
            return profileBackward(() -> inner.backward(g));
        }

        @Override
        public long[] outputShape(long[] in) {
            return new long[] {in[0], 3};
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @AfterEach
    void noneLeftActive() {
        assertFalse(LayerProfiler.isActive());
    }

    @Test
    void recordsSelfTimesPerKeyAndSubtractsNestedCalls() {
        Outer outer = new Outer();
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 4);
        LayerProfiler p = LayerProfiler.start();
        long t0 = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            INDArray y = outer.forward(x, Mode.TRAIN);
            outer.backward(Nd4j.onesLike(y));
        }
        long wall = System.nanoTime() - t0;
        p.stop();
        List<LayerProfiler.Entry> entries = p.entries();
        assertEquals(2, entries.size(), entries.toString());
        LayerProfiler.Entry o = entries.stream().filter(e -> e.key().equals("Outer [2, 4]")).findFirst().orElseThrow();
        assertEquals(3, o.forwardCalls());
        assertEquals(3, o.backwardCalls());
        assertTrue(o.forwardNanos() >= 3 * 20_000_000L, "self time includes the sleeps: " + o);
        LayerProfiler.Entry in = entries.stream().filter(e -> e.key().equals("Linear [2, 4]")).findFirst().orElseThrow();
        assertEquals(3, in.forwardCalls());
        assertEquals(3, in.backwardCalls());
        // self times: the child's time is not counted twice
        assertTrue(p.totalNanos() <= wall, p.totalNanos() + " > wall " + wall);
    }

    @Test
    void aFailingCallIsNotRecordedAndDoesNotDisturbTheNextOnes() {
        Conv2d conv = new Conv2d("c", 4, 6, 3, 1, Padding.SAME, 1, false);
        LayerProfiler p = LayerProfiler.start();
        try {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> conv.forward(Nd4j.rand(DataType.FLOAT, 1, 5, 4, 4), Mode.EVAL)); // 5 channels: rejected
            assertTrue(p.entries().isEmpty());
            conv.forward(Nd4j.rand(DataType.FLOAT, 1, 4, 4, 4), Mode.EVAL);
        } finally {
            p.stop();
        }
        assertEquals(1, p.entries().size());
        assertEquals(1, p.entries().get(0).forwardCalls());
    }

    @Test
    void recordsNothingWhenOffAndConvolutionKeysNameTheirShape() {
        Conv2d conv = new Conv2d("c", 4, 6, 3, 2, Padding.SAME, 2, true);
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, 4, 5, 5);
        LayerProfiler p = LayerProfiler.start();
        p.stop();
        conv.forward(x, Mode.TRAIN);
        assertTrue(p.entries().isEmpty());

        LayerProfiler q = LayerProfiler.start();
        try {
            conv.backward(conv.forward(x, Mode.TRAIN));
        } finally {
            q.stop();
        }
        assertEquals(List.of("Conv2d 3x3/2 g2 4->6 [1, 4, 5, 5]"), q.entries().stream().map(LayerProfiler.Entry::key).toList());
        assertEquals(1, q.entries().get(0).backwardCalls());
    }
}
