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
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.Tuple2;
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
 * stochastic-depth masks are those of the same positions in the single-JVM batch. Training data in a Spark
 * {@code Dataset<Row>} ({@link ImageRows}) stays cached on the executors instead: each step's job reads the batch's
 * examples from the blocks that hold them and sends each to its shard's task.
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
    private final ImageRows rows;
    private final boolean mixing;
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
     * @throws IllegalArgumentException when one step's gradients would not fit {@code spark.driver.maxResultSize}
     */
    public SparkGradientSource(JavaSparkContext sc, Trainer trainer, DatasetSource data, int shards) {
        this(sc, trainer, Objects.requireNonNull(data, "data"), null, shards);
    }

    /**
     * Training from a Spark {@code Dataset<Row>} of images, indexed and cached on the executors ({@link ImageRows}):
     * each step reads the examples of its batch from the cached blocks that hold them and sends each to the task of
     * its shard (every example to every shard with MixUp/CutMix); nothing is sent from the driver but the step's
     * numbers and the parameters.
     *
     * @param trainer a trainer built on {@code rows.dataset()} (or on data of the same size, classes and order)
     * @throws IllegalArgumentException when the trainer's training set does not have the rows' size and classes
     */
    public SparkGradientSource(JavaSparkContext sc, Trainer trainer, ImageRows rows, int shards) {
        this(sc, trainer, null, Objects.requireNonNull(rows, "rows"), shards);
        dev.nfnets.train.data.Dataset d = trainer.loader().dataset();
        if (d.size() != rows.size() || !d.classNames().equals(rows.classNames()) || d.channels() != rows.meta().options().channels()
                || d.height() != rows.meta().options().cropSize() || d.width() != rows.meta().options().cropSize()) {
            throw new IllegalArgumentException("the trainer's training set (" + Preflight.shape(d) + ", classes " + d.classNames()
                    + ") is not the rows' (" + rows.size() + " examples, classes " + rows.classNames() + ", "
                    + rows.meta().options().channels() + "x" + rows.meta().options().cropSize() + "x" + rows.meta().options().cropSize()
                    + "): build the trainer on rows.dataset()");
        }
    }

    private SparkGradientSource(JavaSparkContext sc, Trainer trainer, DatasetSource data, ImageRows rows, int shards) {
        this.sc = Objects.requireNonNull(sc, "sc");
        this.data = data;
        this.rows = rows;
        this.mixing = trainer.config().mixupAlpha() > 0;
        this.configJson = trainer.config().toJson();
        this.options = trainer.model().options().toProperties();   // the workers' models make the driver's kernel choices
        this.loader = trainer.loader();
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, got " + shards);
        }
        this.shards = Math.min(shards, loader.batchSize());
        Preflight.resultSize(sc, ShardStep.parameterCount(trainer.model().namedParameters()), this.shards);
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
            List<ShardStep.Result> results = rows != null ? fromRows(ranges, values, stepSeed, epoch, batchIndex)
                    : sc.parallelize(ranges, n).map(new ShardTask(runId, configJson, options, data, values, stepSeed, epoch, batchIndex)).collect();
            broadcastBytes = 4L * flat.length;
            resultBytes = 4L * flat.length * results.size();
            steps++;
            return ShardStep.reduce(results, params, batch);
        } finally {
            values.destroy();
        }
    }

    /**
     * The step's job over cached rows: the blocks holding the batch's examples send each example to its shard's task
     * (a shuffle between executors), and each task prepares and trains on its positions.
     */
    private List<ShardStep.Result> fromRows(List<int[]> ranges, Broadcast<float[]> values, long stepSeed, long epoch, int batchIndex) {
        int n = ranges.size();
        int[] order = loader.order(epoch);
        int start = batchIndex * loader.drawsPerBatch();
        int count = Math.min(loader.drawsPerBatch(), order.length - start);
        // example index -> its shard (-1: every shard, since mixing pairs examples across the whole batch)
        int[][] wanted = new int[mixing ? count : ranges.get(n - 1)[2]][];
        for (int[] r : ranges) {
            for (int j = r[1]; j < r[2] && !mixing; j++) {
                wanted[j] = new int[] {order[start + j], r[0]};
            }
        }
        for (int j = 0; j < wanted.length && mixing; j++) {
            wanted[j] = new int[] {order[start + j], -1};
        }
        java.util.Arrays.sort(wanted, java.util.Comparator.comparingInt(w -> w[0]));
        int[] indices = new int[wanted.length];
        int[] shardOf = new int[wanted.length];
        java.util.BitSet blocks = new java.util.BitSet();
        for (int i = 0; i < wanted.length; i++) {
            indices[i] = wanted[i][0];
            shardOf[i] = wanted[i][1];
            blocks.set(rows.blockOf(indices[i]));
        }
        JavaRDD<ImageRows.Block> holding = new JavaRDD<>(PartitionPruningRDD.create(rows.blocks().rdd(), new KeepBlocks(blocks)),
                rows.blocks().classTag());
        return holding.flatMapToPair(new Route(indices, shardOf, n))
                .partitionBy(new HashPartitioner(n))
                .mapPartitionsWithIndex(new RowShardTask(runId, configJson, options, rows.meta(), values, stepSeed, epoch,
                        batchIndex, ranges.toArray(new int[0][])), false)
                .collect();
    }

    /** Partition filter: the blocks that hold the step's examples. */
    private static final class KeepBlocks extends scala.runtime.AbstractFunction1<Object, Object> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final java.util.BitSet keep;

        KeepBlocks(java.util.BitSet keep) {
            this.keep = keep;
        }

        @Override
        public Object apply(Object partition) {
            return keep.get((Integer) partition);
        }
    }

    /** On the executor holding a block: the step's examples in it, keyed by the shard that needs each. */
    private record Route(int[] indices, int[] shardOf, int shards)
            implements PairFlatMapFunction<ImageRows.Block, Integer, ImageRows.Example>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public java.util.Iterator<Tuple2<Integer, ImageRows.Example>> call(ImageRows.Block b) {
            List<Tuple2<Integer, ImageRows.Example>> out = new ArrayList<>();
            int from = java.util.Arrays.binarySearch(indices, b.start());
            for (int i = from >= 0 ? from : -from - 1; i < indices.length && indices[i] < b.start() + b.labels().length; i++) {
                int local = indices[i] - b.start();
                ImageRows.Example e = new ImageRows.Example(indices[i], b.labels()[local], b.contents()[local]);
                if (shardOf[i] >= 0) {
                    out.add(new Tuple2<>(shardOf[i], e));
                } else {
                    for (int k = 0; k < shards; k++) {
                        out.add(new Tuple2<>(k, e));
                    }
                }
            }
            return out.iterator();
        }
    }

    /** One shard of one step over examples received from the blocks, run on an executor. */
    private record RowShardTask(String runId, String configJson, java.util.Properties options, ImageRows.Meta meta,
                                Broadcast<float[]> values, long stepSeed, long epoch, int batchIndex, int[][] ranges)
            implements Function2<Integer, java.util.Iterator<Tuple2<Integer, ImageRows.Example>>, java.util.Iterator<ShardStep.Result>>,
            Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public java.util.Iterator<ShardStep.Result> call(Integer shard, java.util.Iterator<Tuple2<Integer, ImageRows.Example>> received) {
            Map<Integer, ImageRows.Example> examples = new java.util.HashMap<>();
            received.forEachRemaining(t -> examples.put(t._2().index(), t._2()));
            WorkerCache.Run run = WorkerCache.run(runId, configJson, options, null);
            int[] range = ranges[shard];
            // a loader of the run's configuration over this shard's examples: the single-JVM loader's draws by index
            BatchLoader loader = Trainer.buildLoader(run.config, new ImageRows.ShardView(meta, examples));
            HostBatch batch = loader.loadHost(epoch, batchIndex, range[1], range[2]);
            NFNet model = run.borrow();
            try {
                ShardStep.load(values.value(), model.namedParameters());
                return List.of(ShardStep.gradients(range[0], model, run.loss, batch, stepSeed, range[1])).iterator();
            } finally {
                run.giveBack(model);
            }
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
