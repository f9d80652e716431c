package dev.nfnets.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nfnets.train.data.augment.Augmentation;
import dev.nfnets.train.data.augment.HorizontalFlip;
import dev.nfnets.train.data.augment.MixUpCutMix;
import dev.nfnets.train.data.augment.RandAugment;
import dev.nfnets.train.data.augment.RandomCropWithPadding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    private record Snapshot(float[] images, float[] targets, int[] labels) {
        static Snapshot of(Batch b) {
            return new Snapshot(b.images().dup().data().asFloat(), b.targets().dup().data().asFloat(), b.labels());
        }

        void assertSame(Snapshot o) {
            assertArrayEquals(images, o.images);
            assertArrayEquals(targets, o.targets);
            assertArrayEquals(labels, o.labels);
        }
    }

    private static List<Snapshot> run(BatchLoader loader, long epoch, int start) {
        List<Snapshot> out = new ArrayList<>();
        try (BatchLoader.BatchIterator it = loader.iterator(epoch, start)) {
            while (it.hasNext()) {
                out.add(Snapshot.of(it.next()));
            }
        }
        return out;
    }

    private static BatchLoader.Builder augmented(Dataset ds, long seed) {
        return BatchLoader.builder(ds).batchSize(4).seed(seed)
                .augmentation(Augmentation.compose(new RandomCropWithPadding(1), new HorizontalFlip()))
                .mixer(new MixUpCutMix(0.2, MixUpCutMix.Mode.PAIR_HALVES))
                .postMixAugmentation(new RandAugment(2, 9, Normalization.identity(), 2, 1))
                .labelSmoothing(0.1);
    }

    @Test
    void anySliceOfABatchEqualsThatPartOfTheWholeBatch() {
        Dataset ds = new SyntheticDataset(37, 3, 1, 6, 6, -1);
        for (BatchLoader loader : new BatchLoader[] {augmented(ds, 5).batchSize(6).build(),
                augmented(ds, 5).batchSize(6).mixer(new MixUpCutMix(0.2, MixUpCutMix.Mode.PERMUTATION)).build(),
                BatchLoader.builder(ds).batchSize(8).seed(2).dropLast(false).postMixAugmentation(
                        new RandAugment(2, 9, Normalization.identity(), 2, 1)).build()}) {
            int last = loader.batchesPerEpoch() - 1;
            for (int b : new int[] {0, last}) {
                HostBatch whole = loader.loadHost(1, b);
                int n = loader.batchLength(b);
                assertEquals(whole.size(), n);
                int len = whole.exampleLength();
                int k = whole.numClasses();
                for (int[] r : new int[][] {{0, n}, {0, 1}, {1, n / 2 + 1}, {n / 2, n}, {n - 1, n}}) {
                    HostBatch part = loader.loadHost(1, b, r[0], r[1]);
                    assertArrayEquals(java.util.Arrays.copyOfRange(whole.images(), r[0] * len, r[1] * len), part.images(), loader + " " + b);
                    assertArrayEquals(java.util.Arrays.copyOfRange(whole.targets(), r[0] * k, r[1] * k), part.targets());
                    assertArrayEquals(java.util.Arrays.copyOfRange(whole.labels(), r[0], r[1]), part.labels());
                }
            }
        }
    }

    @Test
    void plainShuffledEpochVisitsEveryExampleOnce() {
        SyntheticDataset ds = new SyntheticDataset(23, 5);
        BatchLoader loader = BatchLoader.builder(ds).batchSize(4).seed(7).dropLast(false).build();
        assertEquals(6, loader.batchesPerEpoch());
        List<Snapshot> batches = run(loader, 0, 0);
        assertEquals(6, batches.size());
        assertEquals(3, batches.get(5).labels().length);
        int[] seen = new int[23];
        for (Snapshot s : batches) {
            int n = s.labels().length;
            for (int i = 0; i < n; i++) {
                int idx = Math.round(s.images()[i * 16]);
                seen[idx]++;
                assertEquals(idx % 5, s.labels()[i]);
                assertEquals(1f, s.targets()[i * 5 + idx % 5]);
            }
        }
        for (int v : seen) {
            assertEquals(1, v);
        }
        assertFalse(Arrays.equals(loader.order(0), loader.order(1)), "epochs must be shuffled differently");
        assertArrayEquals(loader.order(3), BatchLoader.builder(ds).seed(7).build().order(3));

        BatchLoader dropping = BatchLoader.builder(ds).batchSize(4).seed(7).build();
        assertEquals(5, dropping.batchesPerEpoch());
    }

    @Test
    void sameSeedGivesIdenticalBatchesAndResumeReproducesTheRest() {
        SyntheticDataset ds = new SyntheticDataset(40, 4);
        BatchLoader a = augmented(ds, 11).build();
        BatchLoader b = augmented(ds, 11).workers(3).prefetch(1).build();
        assertEquals(5, a.batchesPerEpoch()); // 40 / (2 * 4)
        List<Snapshot> full = run(a, 2, 0);
        List<Snapshot> again = run(b, 2, 0);
        assertEquals(5, full.size());
        for (int i = 0; i < full.size(); i++) {
            full.get(i).assertSame(again.get(i));
            float[] t = full.get(i).targets();
            for (int r = 0; r < 4; r++) {
                float sum = 0;
                for (int k = 0; k < 4; k++) {
                    sum += t[r * 4 + k];
                }
                assertEquals(1f, sum, 1e-5f);
            }
        }
        List<Snapshot> resumed = run(a, 2, 3);
        assertEquals(2, resumed.size());
        full.get(3).assertSame(resumed.get(0));
        full.get(4).assertSame(resumed.get(1));
        Snapshot.of(a.load(2, 1)).assertSame(full.get(1));

        List<Snapshot> otherSeed = run(augmented(ds, 12).build(), 2, 0);
        assertFalse(Arrays.equals(full.get(0).images(), otherSeed.get(0).images()));
        List<Snapshot> otherEpoch = run(a, 3, 0);
        assertFalse(Arrays.equals(full.get(0).images(), otherEpoch.get(0).images()));
    }

    @Test
    void batchShapesFollowTheAugmentationAndBatchIsOutsideWorkspaces() {
        SyntheticDataset ds = new SyntheticDataset(16, 3, 3, 6, 5, -1);
        BatchLoader loader = augmented(ds, 1).build();
        Batch b = loader.load(0, 0);
        assertArrayEquals(new long[] {4, 3, 6, 5}, b.images().shape());
        assertArrayEquals(new long[] {4, 3}, b.targets().shape());
        assertFalse(b.images().isAttached());
        assertEquals(4, b.size());
    }

    @Test
    void closeStopsTheThreadEarly() throws Exception {
        SyntheticDataset ds = new SyntheticDataset(10_000, 10);
        BatchLoader loader = BatchLoader.builder(ds).batchSize(2).prefetch(1).seed(3).build();
        BatchLoader.BatchIterator it = loader.iterator(0, 0);
        assertTrue(it.hasNext());
        it.next();
        assertEquals(1, it.nextBatchIndex());
        Thread.sleep(50); // let the producer block on the full queue
        assertTrue(it.isWorkerAlive());
        it.close();
        assertFalse(it.isWorkerAlive());
        assertFalse(it.hasNext());
        it.close(); // idempotent
    }

    @Test
    void exceptionsReachTheConsumer() {
        SyntheticDataset ds = new SyntheticDataset(12, 3, 1, 2, 2, 9);
        BatchLoader loader = BatchLoader.builder(ds).batchSize(4).shuffle(false).build();
        BatchLoader.BatchIterator it = loader.iterator(0);
        it.next();
        it.next();
        BatchLoader.LoadingException e = assertThrows(BatchLoader.LoadingException.class, it::hasNext);
        assertTrue(e.getMessage().contains("batch 2"), e.getMessage());
        assertEquals("synthetic failure at 9", e.getCause().getMessage());
        assertFalse(it.isWorkerAlive());
    }

    @Test
    void sequentialEvaluationKeepsOrderAndLastBatch() {
        SyntheticDataset ds = new SyntheticDataset(10, 3);
        BatchLoader loader = BatchLoader.sequential(ds, 4);
        List<Snapshot> batches = run(loader, 5, 0);
        assertEquals(3, batches.size());
        assertEquals(2, batches.get(2).labels().length);
        int next = 0;
        for (Snapshot s : batches) {
            for (int i = 0; i < s.labels().length; i++) {
                assertEquals(next, Math.round(s.images()[i * 16]));
                assertEquals(next % 3, s.labels()[i]);
                next++;
            }
        }
    }

    @Test
    void fashionMnistSubsetThroughTheLoader() {
        FashionMnist ds = FashionMnist.loadEmbedded(Split.TEST);
        BatchLoader loader = BatchLoader.builder(ds).batchSize(50).seed(5)
                .augmentation(new RandomCropWithPadding(2).then(new HorizontalFlip()))
                .mixer(new MixUpCutMix(0.2, MixUpCutMix.Mode.PERMUTATION))
                .postMixAugmentation(RandAugment.scaledTo(2, 5, ds.normalization(), 28))
                .build();
        assertEquals(20, loader.batchesPerEpoch());
        try (BatchLoader.BatchIterator it = loader.iterator(0, 18)) {
            Batch b = it.next();
            assertArrayEquals(new long[] {50, 1, 28, 28}, b.images().shape());
            assertArrayEquals(new long[] {50, 10}, b.targets().shape());
            double[] sums = b.targets().sum(1).toDoubleVector();
            for (double s : sums) {
                assertEquals(1.0, s, 1e-5);
            }
            assertTrue(it.hasNext());
            it.next();
            assertFalse(it.hasNext());
        }
    }
}
