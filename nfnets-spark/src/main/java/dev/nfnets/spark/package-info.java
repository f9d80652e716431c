/**
 * NFNets on Apache Spark: exact synchronous data-parallel training ({@link dev.nfnets.spark.SparkGradientSource},
 * one Spark job per step, the {@link dev.nfnets.train.Trainer} applying the update on the driver), from files every
 * worker opens ({@link dev.nfnets.train.data.DatasetSource}) or from any {@code Dataset<Row>} of images cached on the
 * executors ({@link dev.nfnets.spark.ImageRows}), and batch
 * inference of image {@code Dataset<Row>}s ({@link dev.nfnets.spark.SparkClassifier}). {@link dev.nfnets.spark.SparkBackend}
 * serves {@code nfnets train --spark} and {@code nfnets predict --spark}. See {@code docs/spark.md}.
 *
 * <pre>{@code
 * try (JavaSparkContext sc = new JavaSparkContext(SparkBackend.conf("local[4]", "train"))) {
 *     Trainer trainer = new Trainer(config, FashionMnist.load(Split.TRAIN, null), test, runDir);
 *     try (SparkGradientSource g = new SparkGradientSource(sc, trainer, DatasetSource.fashionMnist(Split.TRAIN, null), 4)) {
 *         trainer.gradientSource(g).fit();
 *     }
 * }
 * }</pre>
 */
package dev.nfnets.spark;
