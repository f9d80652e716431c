package dev.nfnets.layers.optim;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
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
 * Gains, biases and skip gains carry no WEIGHT tag and so get no decay.
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
            // in place and without temporaries (InPlace.axpy): the gradient buffer holds g, then the update
            INDArray g = p.grad();
            INDArray buf = momentum != 0 ? buffer(e.getKey(), p) : null;
            if (HostArrays.eligible(options, p.value(), g) && (buf == null || HostArrays.eligible(options, buf))) {
                stepOnHost(p, buf, lr);
                continue;
            }
            if (FloatKernels.eligible(options, p.value(), g) && (buf == null || FloatKernels.dense(buf))) {
                stepFloat(p, buf, lr);
                continue;
            }
            if (weightDecay != 0 && decays.test(p)) {
                InPlace.axpy(weightDecay, p.value(), g);
            }
            INDArray update = g;
            if (momentum != 0) {
                InPlace.axpy(1.0, g, buf.muli(momentum));
                update = nesterov ? InPlace.axpy(momentum, buf, g) : buf;
            }
            InPlace.axpy(-lr, update, p.value());
        }
        step++;
    }

    /**
     * The same update for a small parameter in one host loop (double precision, rounded once per array):
     * three bulk copies in and three out instead of four native ops. The gradient buffer ends up holding
     * the update, as on the native path.
     */
    private void stepOnHost(Parameter p, INDArray bufArr, double lr) {
        double[] w = HostArrays.read(p.value());
        double[] g = HostArrays.read(p.grad());
        double wd = weightDecay != 0 && decays.test(p) ? weightDecay : 0;
        double[] buf = bufArr == null ? null : HostArrays.read(bufArr);
        for (int i = 0; i < w.length; i++) {
            double gi = g[i] + wd * w[i];
            double u = gi;
            if (buf != null) {
                buf[i] = momentum * buf[i] + gi;
                u = nesterov ? gi + momentum * buf[i] : buf[i];
            }
            g[i] = u;
            w[i] -= lr * u;
        }
        HostArrays.write(p.value(), w);
        HostArrays.write(p.grad(), g);
        if (buf != null) {
            HostArrays.write(bufArr, buf);
        }
    }

    /**
     * Large FLOAT parameters: the same update in one pass over the weights, gradient and momentum buffer
     * ({@link FloatKernels}) instead of five in-place ops.
     * The gradient buffer is left as it was.
     */
    private void stepFloat(Parameter p, INDArray bufArr, double lr) {
        FloatBuffer w = FloatKernels.floats(p.value());
        FloatBuffer g = FloatKernels.floats(p.grad());
        FloatBuffer b = bufArr == null ? null : FloatKernels.floats(bufArr);
        // float arithmetic, as the native ops do: the JIT vectorises it (twice as fast as double here)
        float wd = weightDecay != 0 && decays.test(p) ? (float) weightDecay : 0f;
        float m = (float) momentum;
        float step = (float) lr;
        boolean nest = nesterov;
        int n = (int) p.value().length();
        // chunks through Java arrays ({@link FloatKernels#map}): loops the JIT vectorises
        if (b == null) {
            FloatKernels.map(n, new FloatBuffer[] {w, g}, new FloatBuffer[] {w}, (in, out, d, len) -> {
                float[] wa = in[0];
                float[] ga = in[1];
                float[] wo = out[0];
                for (int i = 0; i < len; i++) {
                    float wi = wa[i];
                    wo[i] = wi - step * (ga[i] + wd * wi);
                }
            });
        } else {
            FloatKernels.map(n, new FloatBuffer[] {w, g, b}, new FloatBuffer[] {w, b}, (in, out, d, len) -> {
                float[] wa = in[0];
                float[] ga = in[1];
                float[] ba = in[2];
                float[] wo = out[0];
                float[] bo = out[1];
                for (int i = 0; i < len; i++) { // the JIT unswitches the loop-invariant branch
                    float wi = wa[i];
                    float gi = ga[i] + wd * wi;
                    float bi = m * ba[i] + gi;
                    bo[i] = bi;
                    wo[i] = wi - step * (nest ? gi + m * bi : bi);
                }
            });
        }
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
