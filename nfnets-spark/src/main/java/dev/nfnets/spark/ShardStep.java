package dev.nfnets.spark;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.TrainStep;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.train.GradientSource;
import dev.nfnets.train.data.Batch;
import dev.nfnets.train.data.HostBatch;
import java.io.Serializable;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One data-parallel training step in two halves, written with the trainer's own {@link TrainStep}: {@link #gradients} runs on a worker over its shard of the step's global batch and returns the shard's
 * gradient sum; {@link #reduce} runs on the driver, adds the shards' sums in shard order, divides by the global batch
 * and writes the mean gradient into the parameters, after which the trainer applies AGC, SGD and EMA exactly as in
 * one JVM.
 *
 * <p>Parameters travel as one flat {@code float[]} in the model's parameter order ({@link #flatten}).
 */
public final class ShardStep {
    private ShardStep() {
    }

    /**
     * What a worker returns for its shard.
     *
     * @param shard    index of the shard within the step (the reduction order)
     * @param gradSum  sum over the shard's examples of each example's loss gradient, flat in parameter order
     * @param lossSum  sum of the shard's examples' losses
     * @param examples number of examples in the shard
     * @param correct  examples whose top-1 prediction is their hard label
     */
    public record Result(int shard, float[] gradSum, double lossSum, int examples, int correct) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Forward and backward over a shard whose first example is example {@code firstExample} of the global batch.
     * The model's parameter values must be the step's; its gradients are left zeroed.
     */
    public static Result gradients(int shard, NFNet model, SoftmaxCrossEntropy loss, HostBatch examples, long stepSeed,
                                   int firstExample) {
        Batch batch = examples.toBatch();
        int[] correct = new int[1];
        try {
            // the trainer's own step, without its update: forward, loss, backward, caches cleared
            TrainStep step = TrainStep.builder(model, null).loss(loss).scope("train-shard")
                    .afterLoss((logits, r) -> correct[0] = correct(logits, batch.labels()))
                    .build();
            TrainStep.Result r = step.gradients(batch.images(), batch.targets(), stepSeed, firstExample);
            int n = examples.size();
            // the loss is the shard's mean: scaled by its size, the gradients are sums over the shard's examples
            float[] grads = flattenGradients(model.namedParameters(), n);
            model.zeroGrad();
            return new Result(shard, grads, r.loss() * n, n, correct[0]);
        } finally {
            batch.images().close();
            batch.targets().close();
        }
    }

    /**
     * Sums the shards' gradients in shard order (whatever order they arrived in), divides by the number of examples
     * and writes the mean into every trainable parameter's gradient.
     *
     * @throws IllegalStateException when shards are missing or do not match the parameters
     */
    public static GradientSource.Outcome reduce(List<Result> shards, Map<String, Parameter> params, int expectedExamples) {
        Result[] ordered = new Result[shards.size()];
        for (Result r : shards) {
            if (r.shard() < 0 || r.shard() >= ordered.length || ordered[r.shard()] != null) {
                throw new IllegalStateException("shard results do not form shards 0.." + (ordered.length - 1) + ": got shard " + r.shard());
            }
            ordered[r.shard()] = r;
        }
        long total = parameterCount(params);
        float[] sum = null;
        double lossSum = 0;
        int examples = 0;
        int correct = 0;
        for (Result r : ordered) {
            if (r.gradSum().length != total) {
                throw new IllegalStateException("shard " + r.shard() + " returned " + r.gradSum().length
                        + " gradient values for a model of " + total + " parameters");
            }
            if (sum == null) {
                sum = r.gradSum().clone();
            } else {
                float[] g = r.gradSum();
                for (int i = 0; i < g.length; i++) {
                    sum[i] += g[i];
                }
            }
            lossSum += r.lossSum();
            examples += r.examples();
            correct += r.correct();
        }
        if (examples != expectedExamples) {
            throw new IllegalStateException("the shards hold " + examples + " examples, the step's batch " + expectedExamples);
        }
        float inv = 1f / examples;
        int off = 0;
        for (Parameter p : params.values()) {
            int len = (int) p.size();
            if (!p.isFrozen()) {
                FloatBuffer g = FloatKernels.floats(p.gradForWriting());
                for (int i = 0; i < len; i++) {
                    g.put(i, sum[off + i] * inv);
                }
            }
            off += len;
        }
        return new GradientSource.Outcome(lossSum / examples, (double) correct / examples, examples);
    }

    /** Number of parameter values, checked to fit one Java array. */
    public static int parameterCount(Map<String, Parameter> params) {
        long n = 0;
        for (Parameter p : params.values()) {
            if (p.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException("data-parallel training needs float32 parameters; " + p.name() + " is " + p.dataType());
            }
            n += p.size();
        }
        return Math.toIntExact(n);
    }

    /** The parameter values, flat in parameter order. */
    public static float[] flatten(Map<String, Parameter> params) {
        float[] out = new float[parameterCount(params)];
        int off = 0;
        for (Parameter p : params.values()) {
            int len = (int) p.size();
            FloatKernels.floats(p.value()).get(0, out, off, len);
            off += len;
        }
        return out;
    }

    /** Sets the parameter values from {@link #flatten}'s output. */
    public static void load(float[] flat, Map<String, Parameter> params) {
        if (flat.length != parameterCount(params)) {
            throw new IllegalArgumentException("received " + flat.length + " parameter values for a model of "
                    + parameterCount(params) + ": the workers' model configuration differs from the driver's");
        }
        int off = 0;
        for (Parameter p : params.values()) {
            int len = (int) p.size();
            FloatKernels.floats(p.value()).put(0, flat, off, len);
            off += len;
        }
    }

    private static float[] flattenGradients(Map<String, Parameter> params, int scale) {
        float[] out = new float[parameterCount(params)];
        int off = 0;
        for (Parameter p : params.values()) {
            int len = (int) p.size();
            if (!p.gradIsZero()) {
                FloatKernels.floats(p.grad()).get(0, out, off, len);
                for (int i = off; i < off + len; i++) {
                    out[i] *= scale;
                }
            }
            off += len;
        }
        return out;
    }

    private static int correct(INDArray logits, int[] labels) {
        INDArray pred = logits.argMax(1);
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (pred.getInt(i) == labels[i]) {
                correct++;
            }
        }
        return correct;
    }
}
