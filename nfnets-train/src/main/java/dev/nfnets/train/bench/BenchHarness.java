package dev.nfnets.train.bench;

import dev.nfnets.core.Agc;
import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.TrainStep;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import dev.nfnets.layers.optim.Sgd;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Model, fixed batch, loss and optimizer of one benchmark; {@link #step} runs and times one step. */
final class BenchHarness {
    final BenchmarkOptions o;
    final NFNet model;
    final INDArray input;
    final INDArray targets;
    final SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(Benchmark.LABEL_SMOOTHING);
    final Optimizer optimizer;
    final Map<String, Parameter> namedParams;
    final long params;
    final long macs;
    final String scopeId;
    final TrainStep trainStep;
    double lastLoss = Double.NaN;
    long workspaceBytes = -1;

    BenchHarness(BenchmarkOptions o) {
        this.o = o;
        Nd4j.getRandom().setSeed(o.seed());
        NFNetConfig c = o.config();
        model = StepScope.outside(() -> new NFNet(c));
        namedParams = model.namedParameters();
        params = model.parameterCount();
        macs = ModelSummary.of(c, o.size()).totalMacs();
        input = StepScope.outside(() -> {
            Nd4j.getRandom().setSeed(o.seed() + 1);
            return Nd4j.randn(DataType.FLOAT, o.batch(), c.inChannels(), o.size(), o.size());
        });
        SplittableRandom rng = new SplittableRandom(o.seed() + 2);
        int[] labels = new int[o.batch()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = rng.nextInt(c.numClasses());
        }
        targets = StepScope.outside(() -> SoftmaxCrossEntropy.oneHot(labels, c.numClasses(), DataType.FLOAT));
        optimizer = new Agc(Sgd.builder().learningRate(Benchmark.LEARNING_RATE).momentum(Benchmark.MOMENTUM).nesterov(true)
                .weightDecay(Benchmark.WEIGHT_DECAY).build(), Agc.DEFAULT_CLIPPING, Agc.DEFAULT_EPS);
        scopeId = "bench-" + o.kind().label();
        trainStep = TrainStep.builder(model, optimizer).loss(loss).scope(scopeId).build();
    }

    /** Runs one step; returns its wall time in milliseconds and records its phases in {@link #phases}. */
    double step(int index) {
        phases.clear();
        if (o.kind() != BenchmarkOptions.Kind.FORWARD) {
            long t0 = System.nanoTime();
            TrainStep.Result r = trainStep.run(input, targets, o.seed() * 31 + index);
            long t4 = System.nanoTime();
            lastLoss = r.loss();
            workspaceBytes = reservedBytes(scopeId);
            phases.put("forward", r.forwardNanos() / 1e6);
            phases.put("loss_backward", r.backwardNanos() / 1e6);
            phases.put("agc_sgd_zero_grad", r.updateNanos() / 1e6);
            phases.put("scope_close", (t4 - t0 - r.forwardNanos() - r.backwardNanos() - r.updateNanos()) / 1e6);
            return (t4 - t0) / 1e6;
        }
        long t0 = System.nanoTime();
        long t1;
        StepScope scope = StepScope.open(scopeId, model.options());
        try {
            INDArray logits = model.forward(input, Mode.EVAL);
            lastLoss = Double.NaN;
            logits.getDouble(0); // results are computed synchronously on CPU; touch one value anyway
            t1 = System.nanoTime();
            workspaceBytes = scope.reservedBytes();
        } finally {
            scope.close();
        }
        long t4 = System.nanoTime();
        phases.put("forward", (t1 - t0) / 1e6);
        phases.put("scope_close", (t4 - t1) / 1e6);
        return (t4 - t0) / 1e6;
    }

    /** Bytes reserved by the step scope {@code id} of this thread (-1 when it is not open yet). */
    private static long reservedBytes(String id) {
        for (org.nd4j.linalg.api.memory.MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            if (w.getId().equals("nfnets-" + id)) {
                return w.getCurrentSize();
            }
        }
        return -1;
    }

    /** Phases of the last step in milliseconds, in order. */
    final Map<String, Double> phases = new LinkedHashMap<>();
}
