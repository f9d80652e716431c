package dev.nfnets.spark;

import dev.nfnets.layers.Parameter;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.ForwardingDataset;
import dev.nfnets.train.data.DatasetSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retried tasks change nothing; a run that cannot work fails before its first step and writes nothing. */
class FaultsTest {
    static final int STEPS = 6;
    /** Examples read through {@link FailOnce} so far, in this JVM (the executors of local mode). */
    static final AtomicInteger READS = new AtomicInteger();

    /** The toy data, but the {@code failAt}-th read in this JVM throws. */
    record FailOnce(ToySource data, int failAt) implements DatasetSource {
        private static final long serialVersionUID = 1L;

        @Override
        public Dataset open() {
            return new ForwardingDataset(data.open()) {
                @Override
                public void get(int index, float[] dst) {
                    if (READS.incrementAndGet() == failAt) {
                        throw new IllegalStateException("injected failure reading example " + index);
                    }
                    super.get(index, dst);
                }
            };
        }
    }

    static TrainingConfig config() {
        return DataParallelExactnessTest.config().toBuilder().maxSteps(STEPS).build();
    }

    static Map<String, Parameter> train(String master, DatasetSource source, Path dir) throws Exception {
        SparkConf conf = SparkBackend.conf(master, "nfnets-test");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            Trainer t = new Trainer(config(), DataParallelExactnessTest.DATA.open(), null, dir);
            try (SparkGradientSource g = new SparkGradientSource(sc, t, source, 2)) {
                t.gradientSource(g).fit();
            }
            return t.model().namedParameters();
        }
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndTheStepsAreUnchanged(@TempDir Path dir) throws Exception {
        Map<String, Parameter> clean = train("local[2]", DataParallelExactnessTest.DATA, dir.resolve("clean"));
        READS.set(0);
        // local[2,2]: two attempts per task; the 40th example read (in step 2 or 3) fails its task once
        Map<String, Parameter> retried = train("local[2,2]", new FailOnce(DataParallelExactnessTest.DATA, 40), dir.resolve("retried"));
        assertTrue(READS.get() > 40, "the injected failure happened and the run went on");
        for (String name : clean.keySet()) {
            assertArrayEquals(clean.get(name).value().dup().data().asFloat(), retried.get(name).value().dup().data().asFloat(), name);
        }
    }

    @Test
    void badClustersFailBeforeTheFirstStepAndKeepTheCheckpoint(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path checkpoint = run.resolve(Trainer.CHECKPOINT_FILE);
        Files.writeString(checkpoint, "the last good checkpoint");
        Trainer trainer = new Trainer(config(), DataParallelExactnessTest.DATA.open(), null, run);

        System.setProperty("spark.driver.maxResultSize", "100k");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SparkBackend().training("local[2]", trainer, DataParallelExactnessTest.DATA));
            assertTrue(e.getMessage().contains("spark.driver.maxResultSize"), e.getMessage());
        } finally {
            System.clearProperty("spark.driver.maxResultSize");
        }

        // the workers' data is not the driver's
        IllegalStateException mismatch = assertThrows(IllegalStateException.class,
                () -> new SparkBackend().training("local[2]", trainer, new ToySource(150, 4, 10, 3)));
        assertTrue(mismatch.getMessage().contains("different training set"), mismatch.getMessage());

        System.setProperty("spark.nfnets.preflightTimeout", "8");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new SparkBackend().training("spark://127.0.0.1:9", trainer, DataParallelExactnessTest.DATA));
            assertTrue(e.getMessage().contains("spark://127.0.0.1:9"), e.getMessage());
        } finally {
            System.clearProperty("spark.nfnets.preflightTimeout");
        }

        assertThrows(IllegalArgumentException.class, () -> new SparkBackend().training("localhost:7077", trainer, DataParallelExactnessTest.DATA));
        assertEquals("the last good checkpoint", Files.readString(checkpoint));
        assertFalse(Files.exists(run.resolve(Trainer.WEIGHTS_FILE)));
        assertEquals(0, trainer.step());
    }

}
