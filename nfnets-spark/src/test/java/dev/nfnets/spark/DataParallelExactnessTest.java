package dev.nfnets.spark;

import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.Parameter;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.Dataset;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel training on Spark equals single-JVM training: 20 steps of a tiny NFNet with every random draw on
 * (crop, flip, MixUp/CutMix, dropout, stochastic depth) give the same parameters with 1 to 4 workers.
 */
class DataParallelExactnessTest {
    static final ToySource DATA = new ToySource(160, 4, 10, 3);
    static final int STEPS = 20;
    static Map<String, float[]> reference;

    static NFNetConfig tiny() {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").numClasses(4)
                .stem(new int[] {8, 16}, new int[] {1, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).dropRate(0.2).stochDepthRate(0.2).build();
    }

    static TrainingConfig config() {
        return TrainingConfig.builder(tiny()).batchSize(16).epochs(100).maxSteps(STEPS).learningRate(0.2).warmupEpochs(0.1)
                .cropPadding(1).flip(true).mixupAlpha(0.2).labelSmoothing(0.1).emaDecay(0.9).checkpointEvery(0).seed(11).build();
    }

    static Map<String, float[]> values(Trainer t) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : t.model().namedParameters().entrySet()) {
            out.put(e.getKey(), e.getValue().value().dup().data().asFloat());
        }
        return out;
    }

    @BeforeAll
    static void singleJvm(@TempDir Path dir) throws Exception {
        Dataset d = DATA.open();
        Trainer t = new Trainer(config(), d, null, dir);
        t.fit();
        reference = values(t);
    }

    static Map<String, float[]> onSpark(String master, Path dir) throws Exception {
        SparkConf conf = new SparkConf().setMaster(master).setAppName("nfnets-test").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            Trainer t = new Trainer(config(), DATA.open(), null, dir);
            try (SparkGradientSource g = new SparkGradientSource(sc, t, DATA, sc.defaultParallelism())) {
                t.gradientSource(g).fit();
            }
            return values(t);
        }
    }

    static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            float[] a = expected.get(name);
            float[] b = actual.get(name);
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
                norm = Math.max(norm, Math.abs(a[i]));
            }
            assertTrue(diff <= 1e-5 * Math.max(norm, 1e-3), what + ": " + name + " differs by " + diff + " (max |value| " + norm + ")");
        }
    }

    @Test
    void oneToFourWorkersMatchTheSingleJvmTrainer(@TempDir Path dir) throws Exception {
        for (int workers = 1; workers <= 4; workers++) {
            Map<String, float[]> p = onSpark("local[" + workers + "]", dir.resolve("w" + workers));
            assertClose(reference, p, workers + " workers");
        }
    }

    @Test
    void twoRunsWithTheSameWorkersAreBitwiseEqual(@TempDir Path dir) throws Exception {
        Map<String, float[]> a = onSpark("local[3]", dir.resolve("a"));
        Map<String, float[]> b = onSpark("local[3]", dir.resolve("b"));
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name), b.get(name), name);
        }
    }
}
