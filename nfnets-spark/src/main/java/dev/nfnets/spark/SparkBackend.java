package dev.nfnets.spark;

import dev.nfnets.core.io.AtomicFiles;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.train.GradientSource;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.cli.ClusterBackend;
import dev.nfnets.train.data.DatasetSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code nfnets train --spark} and {@code nfnets predict --spark}: opens a Spark session on the given master,
 * checks the cluster before the first step ({@link Preflight}), and runs {@link SparkGradientSource} or
 * {@link SparkClassifier}. Registered as a {@link ClusterBackend} service.
 */
public final class SparkBackend implements ClusterBackend {
    private static final Logger log = LoggerFactory.getLogger(SparkBackend.class);

    /**
     * The Spark configuration of a command-line run: the master, an application name, no web UI unless
     * {@code spark.ui.enabled} is set, 50 finished jobs and stages kept in the driver's status store, and for a {@code spark://} master the executors' class path set to this JVM's
     * (the cluster script's workers run on this machine's files; set {@code spark.executor.extraClassPath} or use
     * {@code spark-submit} for other clusters). Other {@code spark.*} system properties apply as usual.
     */
    public static SparkConf conf(String master, String appName) {
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException("--spark needs a master: local[N], local[*] or spark://host:port");
        }
        if (!master.matches("local(\\[[0-9*]+(,[0-9]+)?])?|spark://.+|yarn|k8s://.+")) {
            throw new IllegalArgumentException("--spark " + master + ": not a Spark master URL (local[N], spark://host:port, yarn, k8s://...)");
        }
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName);
        conf.setIfMissing("spark.ui.enabled", "false");
        // one job per training step: the driver's status store keeps fewer finished jobs than its default 1000
        conf.setIfMissing("spark.ui.retainedJobs", "50");
        conf.setIfMissing("spark.ui.retainedStages", "50");
        if (master.startsWith("local")) {   // local[N]: driver and executors in this JVM
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        if (master.startsWith("spark://")) {
            conf.setIfMissing("spark.executor.extraClassPath", NFNetsOptions.Process.jvm("java.class.path"));
        }
        return conf;
    }

    @Override
    public GradientSource training(String master, Trainer trainer, DatasetSource train) {
        JavaSparkContext sc = new JavaSparkContext(conf(master, "nfnets train " + trainer.config().model().name()));
        try {
            int shards = sc.defaultParallelism();
            boolean rowsWanted = "binaryFile".equalsIgnoreCase(sc.getConf().get(READ_FOLDERS, "path"));
            if (rowsWanted && !(train instanceof DatasetSource.ImageFolderSource)) {
                throw new IllegalArgumentException(READ_FOLDERS + "=binaryFile reads image folders; the training data is " + train);
            }
            Preflight.check(sc, trainer, rowsWanted ? null : train, shards);
            ImageRows rows = rowsWanted ? folderRows(sc, (DatasetSource.ImageFolderSource) train) : null;
            SparkGradientSource source;
            try {
                source = rows != null ? new SparkGradientSource(sc, trainer, rows, shards) : new SparkGradientSource(sc, trainer, train, shards);
            } catch (RuntimeException e) {
                if (rows != null) {
                    rows.close();
                    forgetSessions();
                }
                throw e;
            }
            log.info("training on Spark {}: {} shards per step of {} examples", master, source.shards(), trainer.loader().batchSize());
            return new GradientSource() {
                @Override
                public Outcome computeGradients(long step, long stepSeed, long epoch, int batchIndex,
                                                Map<String, dev.nfnets.layers.Parameter> params) {
                    return source.computeGradients(step, stepSeed, epoch, batchIndex, params);
                }

                @Override
                public void close() {
                    source.close();
                    if (rows != null) {
                        rows.close();
                        forgetSessions();
                    }
                    sc.close();
                }
            };
        } catch (RuntimeException | Error e) {
            stopFully(sc);
            throw e;
        }
    }

    /**
     * Stops the context and waits (up to a minute) until Spark no longer holds it as the active one: when the
     * scheduler already began stopping it in a thread of its own (a master that never answered), {@code close()}
     * returns at once, and a {@code SparkSession.builder().getOrCreate()} right after would get the stopping context.
     */
    private static void stopFully(JavaSparkContext sc) {
        sc.close();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
            if (active.isEmpty() || active.get() != sc.sc()) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.warn("the Spark context of {} is still stopping after a minute", sc.master());
    }

    /**
     * Spark setting that chooses how the workers read an image folder given to {@code nfnets train --spark}: {@code path}
     * (the default: each worker opens the folder at the driver's path) or {@code binaryFile} (Spark reads the files
     * once into {@link ImageRows}, cached on the executors; the folder must be readable by Spark at that path or URI).
     */
    public static final String READ_FOLDERS = "spark.nfnets.readImageFolders";

    /** The session {@link #folderRows} made ends with the context: a later {@code SparkSession.builder()} must not find it. */
    private static void forgetSessions() {
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    private static ImageRows folderRows(JavaSparkContext sc, DatasetSource.ImageFolderSource folder) {
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(folder.root());
        return ImageRows.binaryFiles(files, folder.root(), folder.options());
    }

    @Override
    public long predict(String master, Path weights, String model, List<String> classNames, Path dir, int top, Path output)
            throws IOException {
        SparkSession spark = SparkSession.builder().config(conf(master, "nfnets predict")).getOrCreate();
        try {
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                    .option("pathGlobFilter", "*.{jpg,jpeg,JPG,JPEG,png,PNG,bmp,gif}").load(dir.toAbsolutePath().toString());
            SparkClassifier.Model m = new SparkClassifier.Model(weights.toAbsolutePath().toString(), model, classNames);
            List<Row> rows = SparkClassifier.classify(files, m, top).orderBy("path").collectAsList();
            StringBuilder csv = new StringBuilder("path");
            for (int i = 1; i <= top; i++) {
                csv.append(",label").append(i).append(",probability").append(i);
            }
            csv.append('\n');
            for (Row r : rows) {
                csv.append(quote(r.getString(0)));
                List<String> labels = r.getList(1);
                List<Double> probs = r.getList(2);
                for (int i = 0; i < labels.size(); i++) {
                    csv.append(',').append(quote(labels.get(i))).append(',').append(String.format(Locale.ROOT, "%.6f", probs.get(i)));
                }
                csv.append('\n');
            }
            AtomicFiles.write(output, csv.toString().getBytes(StandardCharsets.UTF_8));
            return rows.size();
        } finally {
            spark.stop();
            forgetSessions();
        }
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
