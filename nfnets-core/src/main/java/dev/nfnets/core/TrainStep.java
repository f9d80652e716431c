package dev.nfnets.core;

import dev.nfnets.layers.Mode;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Shapes;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One training step of an {@link NFNet}, in the order that matters, inside one {@link StepScope} opened with the
 * model's options: forward (TRAIN), loss, backward, clear the layers' caches, then the optimizer (AGC + SGD, say,
 * running with the model's options as they are at that step),
 * an after-update hook (the EMA), and zeroed gradients. The trainer, the benchmark, the examples and the
 * reference check all run this class, so the order is written once.
 *
 * <p>For data-parallel training the two halves run apart: {@link #gradients} computes a shard's gradients
 * (accumulated into the parameters' gradients, nothing applied), and {@link #applyGradients} applies the
 * optimizer to gradients computed elsewhere (a sum over shards) on the process that owns the optimizer.
 *
 * <pre>{@code
 * TrainStep step = TrainStep.builder(model, new Agc(sgd)).loss(new SoftmaxCrossEntropy(0.1))
 *         .afterUpdate(params -> ema.update(params, stepIndex)).build();
 * double loss = step.run(images, oneHotTargets, seed).loss();  // parameters updated, gradients zeroed
 * }</pre>
 *
 * <p>Lives in nfnets-core, not nfnets-train: the reference check (nfnets-core) runs it, and core cannot see train.
 * The EMA (nfnets-train) and the listeners plug in through the hooks.
 */
public final class TrainStep {
    private final NFNet model;
    private final Optimizer optimizer;
    private final SoftmaxCrossEntropy loss;
    private final String scopeId;
    private final LogitsHook afterLoss;
    private final Consumer<Map<String, Parameter>> afterGradients;
    private final Consumer<Map<String, Parameter>> afterUpdate;
    private final Map<String, Parameter> params;
    /** The model options the optimizer was last given; a model whose options change passes them on at the next update. */
    private NFNetsOptions optimizerOptions;

    /** Sees the logits and the loss inside the step scope (they are invalid after it); may throw to abort the step. */
    @FunctionalInterface
    public interface LogitsHook {
        void accept(INDArray logits, SoftmaxCrossEntropy.Result loss);
    }

    /** The loss of a step and the wall time of its phases in nanoseconds (update is 0 for {@link #gradients}). */
    public record Result(double loss, long forwardNanos, long backwardNanos, long updateNanos) {
    }

    private TrainStep(Builder b) {
        this.model = b.model;
        this.optimizer = b.optimizer;
        this.loss = b.loss;
        this.scopeId = b.scopeId;
        this.afterLoss = b.afterLoss;
        this.afterGradients = b.afterGradients;
        this.afterUpdate = b.afterUpdate;
        this.params = model.namedParameters();
        if (optimizer != null) {
            optimizerOptions = model.options();
            optimizer.useOptions(optimizerOptions);
        }
    }

    /** A step for {@code model}; {@code optimizer} may be null for a step that only computes gradients. */
    public static Builder builder(NFNet model, Optimizer optimizer) {
        return new Builder(model, optimizer);
    }

    public NFNet model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The model's parameters by dotted name (the map the optimizer updates). */
    public Map<String, Parameter> parameters() {
        return params;
    }

    /** A whole step without reseeding the stochastic layers. */
    public Result run(INDArray images, INDArray targets) {
        return run(images, targets, false, 0);
    }

    /** A whole step; the stochastic layers (dropout, stochastic depth) are reseeded from {@code seed} first. */
    public Result run(INDArray images, INDArray targets, long seed) {
        return run(images, targets, true, seed);
    }

    private Result run(INDArray images, INDArray targets, boolean reseed, long seed) {
        requireOptimizer();
        try (StepScope ignored = StepScope.open(scopeId, model.options())) {
            long t0 = System.nanoTime();
            double[] lossAndTimes = forwardBackward(images, targets, reseed, seed, 0);
            long t2 = System.nanoTime();
            update();
            long t3 = System.nanoTime();
            return new Result(lossAndTimes[0], (long) lossAndTimes[1] - t0, t2 - (long) lossAndTimes[1], t3 - t2);
        }
    }

    /**
     * Forward, loss and backward only: the gradients are added to the parameters' gradients (call
     * {@link NFNet#zeroGrad} or {@link #applyGradients} afterwards); the optimizer does not run. Without
     * reseeding when {@code seed} is null.
     */
    public Result gradients(INDArray images, INDArray targets, Long seed) {
        return gradients(images, targets, seed, 0);
    }

    /**
     * {@link #gradients(INDArray, INDArray, Long)} for the examples {@code firstExample ..} of a larger batch: the
     * stochastic layers draw each example's mask from (seed, layer, index in the whole batch), so a shard of a
     * batch draws exactly what the whole batch draws for those examples (data-parallel training).
     */
    public Result gradients(INDArray images, INDArray targets, Long seed, long firstExample) {
        try (StepScope ignored = StepScope.open(scopeId, model.options())) {
            long t0 = System.nanoTime();
            double[] lossAndTimes = forwardBackward(images, targets, seed != null, seed == null ? 0 : seed, firstExample);
            long t2 = System.nanoTime();
            return new Result(lossAndTimes[0], (long) lossAndTimes[1] - t0, t2 - (long) lossAndTimes[1], 0);
        }
    }

    /**
     * Applies the optimizer (and the after-update hook) to {@code gradients}, by parameter name, scaled by
     * {@code scale} (1 / shards for a mean over shards), then zeroes the gradients. Every trainable parameter
     * must have a gradient of its shape; a missing, unknown or mis-shaped one fails before anything changes.
     */
    public void applyGradients(Map<String, INDArray> gradients, double scale) {
        requireOptimizer();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            INDArray g = gradients.get(e.getKey());
            if (g == null) {
                if (!p.isFrozen()) {
                    throw new IllegalArgumentException("TrainStep.applyGradients: no gradient for parameter '" + e.getKey() + "'");
                }
                continue;
            }
            Shapes.check("TrainStep.applyGradients", "gradient of '" + e.getKey() + "'", g, p.shape());
        }
        for (String name : gradients.keySet()) {
            if (!params.containsKey(name)) {
                throw new IllegalArgumentException("TrainStep.applyGradients: unknown parameter '" + name + "'");
            }
        }
        try (StepScope ignored = StepScope.open(scopeId + "-apply", model.options())) {
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                INDArray g = gradients.get(e.getKey());
                if (g != null) {
                    Parameter p = e.getValue();
                    p.zeroGrad();
                    p.accumulateGrad(scale == 1.0 ? g.castTo(p.dataType()) : g.castTo(p.dataType()).mul(scale));
                }
            }
            update();
        }
    }

    /** Applies the optimizer to the gradients the parameters hold now (after {@link #gradients}), then zeroes them. */
    public void applyAccumulated() {
        requireOptimizer();
        try (StepScope ignored = StepScope.open(scopeId + "-apply", model.options())) {
            update();
        }
    }

    /** Returns {loss, time after the backward pass started}; runs inside the caller's scope. */
    private double[] forwardBackward(INDArray images, INDArray targets, boolean reseed, long seed, long firstExample) {
        if (reseed) {
            model.reseed(seed, firstExample);
        }
        INDArray logits = model.forward(images, Mode.TRAIN);
        long t1 = System.nanoTime();
        SoftmaxCrossEntropy.Result r = loss.compute(logits, targets);
        if (afterLoss != null) {
            afterLoss.accept(logits, r);
        }
        model.backward(r.gradient());
        model.clearCache();
        return new double[] {r.loss(), t1};
    }

    private void update() {
        // the optimizer's kernels follow the model's options: a model given new options (NFNet#useOptions, the
        // benchmark's same-process A/B) updates with them from its next step on, not with the ones of the build
        NFNetsOptions current = model.options();
        if (current != optimizerOptions) {
            optimizer.useOptions(current);
            optimizerOptions = current;
        }
        if (afterGradients != null) {
            afterGradients.accept(params);   // the whole step's gradient, whoever computed it
        }
        optimizer.step(params);
        if (afterUpdate != null) {
            afterUpdate.accept(params);
        }
        model.zeroGrad();
    }

    private void requireOptimizer() {
        if (optimizer == null) {
            throw new IllegalStateException("TrainStep: built without an optimizer; only gradients() can run");
        }
    }

    /** Builds a {@link TrainStep}; the loss defaults to softmax cross-entropy without label smoothing. */
    public static final class Builder {
        private final NFNet model;
        private final Optimizer optimizer;
        private SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
        private String scopeId = "train";
        private LogitsHook afterLoss;
        private Consumer<Map<String, Parameter>> afterGradients;
        private Consumer<Map<String, Parameter>> afterUpdate;

        private Builder(NFNet model, Optimizer optimizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.optimizer = optimizer;
        }

        public Builder loss(SoftmaxCrossEntropy loss) {
            this.loss = Objects.requireNonNull(loss, "loss");
            return this;
        }

        /** The step scope's id (one per kind of step, so each learns its size once). */
        public Builder scope(String id) {
            this.scopeId = Objects.requireNonNull(id, "scope id");
            return this;
        }

        /** Called with the logits and loss before the backward pass (checks, accuracy). */
        public Builder afterLoss(LogitsHook hook) {
            this.afterLoss = hook;
            return this;
        }

        /** Called with the parameters once their gradients are complete, before the optimizer (listeners). */
        public Builder afterGradients(Consumer<Map<String, Parameter>> hook) {
            this.afterGradients = hook;
            return this;
        }

        /** Called with the parameters after the optimizer, before the gradients are zeroed (the EMA). */
        public Builder afterUpdate(Consumer<Map<String, Parameter>> hook) {
            this.afterUpdate = hook;
            return this;
        }

        public TrainStep build() {
            return new TrainStep(this);
        }
    }
}
