package dev.nfnets.spark;

import dev.nfnets.train.Trainer;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.DatasetSource;
import java.io.Serializable;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checks a cluster before the first training step, so that a run that cannot work fails at once with one message
 * and before any checkpoint is written: the step's results fit {@code spark.driver.maxResultSize}; within
 * {@code spark.nfnets.preflightTimeout} seconds (default 180: executors of a fresh application start in tens of seconds) one task per shard runs (the master is reachable and
 * has workers), loads ND4J's native backend, and opens the training data, which must look like the driver's
 * (same size, classes and image shape).
 */
final class Preflight {
    /** Bytes Spark adds per task result on top of the gradient array (task metrics, accumulators). */
    private static final long RESULT_OVERHEAD = 64 * 1024;

    private Preflight() {
    }

    /** With a null {@code train} (examples sent from cached rows) the workers' probe only loads ND4J. */
    static void check(JavaSparkContext sc, Trainer trainer, DatasetSource train, int shards) {
        String master = sc.master();
        int tasks = Math.min(shards, trainer.loader().batchSize());
        resultSize(sc, ShardStep.parameterCount(trainer.model().namedParameters()), tasks);
        Dataset d = trainer.loader().dataset();
        String expected = shape(d);
        long timeout = sc.getConf().getLong("spark.nfnets.preflightTimeout", 180);
        sc.setJobDescription("nfnets preflight: ND4J and the training data on every shard");
        JavaFutureAction<List<String>> probe = sc.parallelize(IntStream.range(0, tasks).boxed().collect(Collectors.toList()), tasks)
                .map(new Probe(train)).collectAsync();
        List<String> seen;
        try {
            seen = probe.get(timeout, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            probe.cancel(true);
            throw new IllegalStateException("Spark master " + master + ": no training task could run within " + timeout
                    + " s; is the master reachable, and does it have workers with free cores? (spark.nfnets.preflightTimeout)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking the Spark workers", e);
        } catch (ExecutionException | RuntimeException e) {
            throw new IllegalStateException("the Spark workers of " + master + " cannot run a training step: " + rootMessage(e), e);
        }
        for (String s : seen) {
            if (train != null && !s.equals(expected)) {
                throw new IllegalStateException("the Spark workers read a different training set than the driver: workers "
                        + s + ", driver " + expected + " (" + train + ")");
            }
        }
    }

    /**
     * One step's results ({@code tasks} gradient arrays of {@code params} floats) must fit
     * {@code spark.driver.maxResultSize}, or Spark would abort the first step's job.
     *
     * @throws IllegalArgumentException naming the setting and the value that would fit
     */
    static void resultSize(JavaSparkContext sc, long params, int tasks) {
        long perStep = tasks * (4 * params + RESULT_OVERHEAD);
        long max = sc.getConf().getSizeAsBytes("spark.driver.maxResultSize", "1g");
        if (max > 0 && perStep > max) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "one step returns %d shards x %d parameters = %.1f MB of gradients, more than spark.driver.maxResultSize "
                            + "(%.1f MB): raise it (--conf / -Dspark.driver.maxResultSize=%dm) or use fewer executor cores",
                    tasks, params, perStep / 1e6, max / 1e6, perStep / (1 << 20) + 1));
        }
    }

    static String shape(Dataset d) {
        return d.size() + " examples, " + d.numClasses() + " classes, " + d.channels() + "x" + d.height() + "x" + d.width();
    }

    static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        return r == t ? m : m + " (cause: " + r + ")";
    }

    /** Loads ND4J and opens the data on a worker; returns the data's shape. */
    private record Probe(DatasetSource train) implements Function<Integer, String>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public String call(Integer shard) {
            try {
                Nd4j.create(new float[] {1, 2}).sumNumber();
            } catch (Throwable e) {
                throw new IllegalStateException("ND4J's native backend does not load on this worker (" + e + ")", e);
            }
            return train == null ? "" : shape(WorkerCache.dataset(train));
        }
    }
}
