package dev.nfnets.layers.optim;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.kernels.SgdUpdateKernel;
import dev.nfnets.layers.kernels.SgdUpdates;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * SGD with (Nesterov) momentum and coupled weight decay, in the NFNet reference's order:
 * <pre>
 *   g   = grad + wd * p          (only where the decay predicate holds; by default parameters tagged WEIGHT)
 *   buf = momentum * buf + g     (buf starts at 0, no dampening)
 *   u   = nesterov ? g + momentum * buf : buf
 *   p   = p - lr(step) * u
 * </pre>
 * Gains, biases and skip gains carry no WEIGHT tag and so get no decay. The arithmetic is an
 * {@link SgdUpdateKernel} ({@link dev.nfnets.layers.kernels.Nd4jSgdUpdate}, the reference;
 * {@link dev.nfnets.layers.kernels.HostSgdUpdate}; {@link dev.nfnets.layers.kernels.FloatSgdUpdate}), chosen per
 * parameter by {@link SgdUpdates#choose} from the options.
 *
 * <pre>{@code
 * Sgd sgd = Sgd.builder().schedule(LearningRateSchedule.constant(0.1)).momentum(0.9).nesterov(true).weightDecay(2e-5).build();
 * sgd.step(model.namedParameters());
 * }</pre>
 */
public final class Sgd implements Optimizer {
    private final LearningRateSchedule schedule;
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;
    private final Predicate<Parameter> decays;
    private final Map<String, INDArray> buffers = new HashMap<>();
    private long step;
    private NFNetsOptions options = NFNetsOptions.defaults();

    private Sgd(Builder b) {
        this.schedule = b.schedule;
        this.momentum = b.momentum;
        this.nesterov = b.nesterov;
        this.weightDecay = b.weightDecay;
        this.decays = b.decays;
    }

    public static Builder builder() {
        return new Builder();
    }

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public LearningRateSchedule schedule() {
        return schedule;
    }

    @Override
    public void useOptions(NFNetsOptions options) {
        this.options = java.util.Objects.requireNonNull(options, "options");
    }

    @Override
    public void step(Map<String, Parameter> params) {
        double lr = schedule.at(step);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            if (p.isFrozen()) {
                continue;
            }
            INDArray g = p.grad();
            INDArray buf = momentum != 0 ? buffer(e.getKey(), p) : null;
            double wd = weightDecay != 0 && decays.test(p) ? weightDecay : 0;
            SgdUpdates.choose(p.value(), g, buf, options).update(p.value(), g, buf, lr, momentum, nesterov, wd, options);
        }
        step++;
    }

    private INDArray buffer(String name, Parameter p) {
        INDArray buf = buffers.get(name);
        if (buf == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                buf = Nd4j.zeros(p.dataType(), p.shape());
            }
            buffers.put(name, buf);
        }
        return buf;
    }

    @Override
    public long stepCount() {
        return step;
    }

    @Override
    public void setStepCount(long step) {
        this.step = step;
    }

    @Override
    public double currentLearningRate() {
        return schedule.at(step);
    }

    @Override
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        buffers.keySet().stream().sorted().forEach(k -> out.put("momentum/" + k, buffers.get(k)));
        return out;
    }

    @Override
    public void loadState(Map<String, INDArray> state) {
        Map<String, INDArray> restored = new HashMap<>();
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            if (!e.getKey().startsWith("momentum/")) {
                throw new IllegalArgumentException("unexpected SGD state entry '" + e.getKey() + "'");
            }
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                restored.put(e.getKey().substring("momentum/".length()), e.getValue().dup('c'));
            }
        }
        buffers.clear();
        buffers.putAll(restored);
    }

    /** Checks that every momentum buffer matches a parameter of the same shape. */
    public void validateState(Map<String, Parameter> params) {
        StringBuilder problems = new StringBuilder();
        for (Map.Entry<String, INDArray> e : buffers.entrySet()) {
            Parameter p = params.get(e.getKey());
            if (p == null) {
                problems.append("\n  momentum for unknown parameter '").append(e.getKey()).append('\'');
            } else if (!Arrays.equals(p.shape(), e.getValue().shape())) {
                problems.append("\n  momentum for '").append(e.getKey()).append("' has shape ")
                        .append(Arrays.toString(e.getValue().shape())).append(", parameter has ").append(Arrays.toString(p.shape()));
            }
        }
        if (problems.length() > 0) {
            throw new IllegalArgumentException("optimizer state does not match the model:" + problems);
        }
    }

    public static final class Builder {
        private LearningRateSchedule schedule = LearningRateSchedule.constant(0.1);
        private double momentum = 0.9;
        private boolean nesterov = true;
        private double weightDecay = 0;
        private Predicate<Parameter> decays = p -> p.hasTag(Tag.WEIGHT);

        public Builder schedule(LearningRateSchedule s) {
            this.schedule = s;
            return this;
        }

        public Builder learningRate(double lr) {
            return schedule(LearningRateSchedule.constant(lr));
        }

        public Builder momentum(double m) {
            if (m < 0 || m >= 1) {
                throw new IllegalArgumentException("momentum must be in [0, 1), got " + m);
            }
            this.momentum = m;
            return this;
        }

        public Builder nesterov(boolean n) {
            this.nesterov = n;
            return this;
        }

        public Builder weightDecay(double wd) {
            if (wd < 0) {
                throw new IllegalArgumentException("weight decay must be >= 0, got " + wd);
            }
            this.weightDecay = wd;
            return this;
        }

        /** Which parameters get weight decay (default: those tagged {@link Tag#WEIGHT}). */
        public Builder decayWhen(Predicate<Parameter> p) {
            this.decays = p;
            return this;
        }

        public Sgd build() {
            return new Sgd(this);
        }
    }
}
