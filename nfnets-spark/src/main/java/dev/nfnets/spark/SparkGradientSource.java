package dev.nfnets.spark;

import dev.nfnets.core.NFNet;
import dev.nfnets.layers.Parameter;
import dev.nfnets.train.GradientSource;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.data.BatchLoader;
import dev.nfnets.train.data.DatasetSource;
import dev.nfnets.train.data.HostBatch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes each training step's gradients on a Spark cluster: one step is one Spark job.
 *
 * <p><b>Sharding.</b> The step's global batch of {@code B} examples (batch {@code b} of epoch {@code e} of the
 * trainer's loader) is cut into {@code S} contiguous shards, shard {@code k} holding batch positions
 * {@code [k*B/S, (k+1)*B/S)}; each shard is one task. The driver sends each task only these numbers and the
 * parameters (one broadcast per step, destroyed when the step's job ends); the task opens the training data
 * itself ({@link DatasetSource}, once per executor JVM), builds the run's loader, and prepares exactly the
 * examples of its positions ({@link BatchLoader#loadHost(long, int, int, int)}). Every random draw depends on
 * (seed, step or epoch, position or example index) only, so a shard's examples, augmentations and dropout and
 * stochastic-depth masks are those of the same positions in the single-JVM batch.
 *
 * <p><b>Reduction.</b> Tasks return gradient sums; the driver adds them in shard order, divides by {@code B}
 * ({@link ShardStep#reduce}) and hands the mean to the {@link Trainer}, which applies AGC, SGD and EMA.
 * Tasks are pure functions of (parameters, step, data): a retried task returns the same result.
 *
 * <pre>{@code
 * try (SparkGradientSource g = new SparkGradientSource(jsc, trainer, DatasetSource.fashionMnist(Split.TRAIN, null), 4)) {
 *     trainer.gradientSource(g).fit();
 * }
 * }</pre>
 */
public final class SparkGradientSource implements GradientSource {
    private static final Logger log = LoggerFactory.getLogger(SparkGradientSource.class);

    private final JavaSparkContext sc;
    private final String runId = UUID.randomUUID().toString();
    private final String configJson;
    private final java.util.Properties options;
    private final DatasetSource data;
    private final BatchLoader loader;
    private final int shards;
    private long broadcastBytes;
    private long resultBytes;
    private long steps;

    /**
     * @param sc      the cluster
     * @param trainer the trainer whose steps this source computes (its configuration and loader)
     * @param data    how the workers open the trainer's training set
     * @param shards  tasks per step, at least 1 (usually the cluster's cores); at most the batch size
     */
    public SparkGradientSource(JavaSparkContext sc, Trainer trainer, DatasetSource data, int shards) {
        this.sc = Objects.requireNonNull(sc, "sc");
        this.data = Objects.requireNonNull(data, "data");
        this.configJson = trainer.config().toJson();
        this.options = trainer.model().options().toProperties();   // the workers' models make the driver's kernel choices
        this.loader = trainer.loader();
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, got " + shards);
        }
        this.shards = Math.min(shards, loader.batchSize());
    }

    /** Tasks per step. */
    public int shards() {
        return shards;
    }

    /** Bytes broadcast per step (the parameters). */
    public long broadcastBytesPerStep() {
        return broadcastBytes;
    }

    /** Bytes of gradient sums returned to the driver per step (all shards). */
    public long resultBytesPerStep() {
        return resultBytes;
    }

    @Override
    public Outcome computeGradients(long step, long stepSeed, long epoch, int batchIndex, Map<String, Parameter> params) {
        int batch = loader.batchLength(batchIndex);
        int n = Math.min(shards, batch);
        List<int[]> ranges = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            ranges.add(new int[] {k, (int) ((long) k * batch / n), (int) ((long) (k + 1) * batch / n)});
        }
        float[] flat = ShardStep.flatten(params);
        Broadcast<float[]> values = sc.broadcast(flat);
        try {
            sc.setJobDescription("nfnets step " + (step + 1) + " (epoch " + epoch + ", batch " + batchIndex + ", " + n + " shards)");
            ShardTask task = new ShardTask(runId, configJson, options, data, values, stepSeed, epoch, batchIndex);
            List<ShardStep.Result> results = sc.parallelize(ranges, n).map(task).collect();
            broadcastBytes = 4L * flat.length;
            resultBytes = 4L * flat.length * results.size();
            steps++;
            return ShardStep.reduce(results, params, batch);
        } finally {
            values.destroy();
        }
    }

    /** One shard of one step, run on an executor. */
    private record ShardTask(String runId, String configJson, java.util.Properties options, DatasetSource data, Broadcast<float[]> values, long stepSeed,
                             long epoch, int batchIndex) implements Function<int[], ShardStep.Result>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public ShardStep.Result call(int[] range) {
            WorkerCache.Run run = WorkerCache.run(runId, configJson, options, data);
            HostBatch examples = run.loader.loadHost(epoch, batchIndex, range[1], range[2]);
            NFNet model = run.borrow();
            try {
                ShardStep.load(values.value(), model.namedParameters());
                return ShardStep.gradients(range[0], model, run.loss, examples, stepSeed, range[1]);
            } finally {
                run.giveBack(model);
            }
        }
    }

    @Override
    public void close() {
        if (steps > 0) {
            log.info("{} steps on Spark in {} shards: {} KB broadcast and {} KB of gradients returned per step", steps, shards,
                    broadcastBytes / 1024, resultBytes / 1024);
        }
    }
}
