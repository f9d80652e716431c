package dev.nfnets.train;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.kernels.EmaUpdateKernel;
import dev.nfnets.layers.Parameter;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exponential moving average of the parameters with the reference's TF1-style warm-up:
 * {@code decay_t = min(decay, (1 + t) / (10 + t))}, {@code ema = decay_t * ema + (1 - decay_t) * p}, updated
 * after every optimizer step, by an {@link EmaUpdateKernel} chosen from the options. The shadow copies live
 * outside any workspace.
 */
public final class Ema {
    private final double decay;
    private final Map<String, INDArray> shadow = new LinkedHashMap<>();
    private NFNetsOptions options = NFNetsOptions.defaults();

    public Ema(Map<String, Parameter> params, double decay) {
        this.decay = decay;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            params.forEach((k, p) -> shadow.put(k, p.value().dup('c')));
        }
    }

    /** Makes the updates run with {@code options}' kernel choices (the model's). */
    public Ema useOptions(NFNetsOptions options) {
        this.options = java.util.Objects.requireNonNull(options, "options");
        return this;
    }

    public double decayAt(long step) {
        return Math.min(decay, (1.0 + step) / (10.0 + step));
    }

    public void update(Map<String, Parameter> params, long step) {
        double d = decayAt(step);
        params.forEach((k, p) -> {
            INDArray s = shadow.get(k);
            EmaUpdateKernel.choose(s, p.value(), options).update(s, p.value(), d);
        });
    }

    public Map<String, INDArray> shadow() {
        return shadow;
    }

    /** Restores shadow values (resume); every entry must match an existing one in shape. */
    public void load(Map<String, INDArray> values) {
        for (Map.Entry<String, INDArray> e : values.entrySet()) {
            INDArray s = shadow.get(e.getKey());
            if (s == null || !java.util.Arrays.equals(s.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("EMA state entry '" + e.getKey() + "' does not match the model");
            }
            s.assign(e.getValue());
        }
    }

    /** Swaps the EMA values into the parameters; returns the raw values so {@link #restore} can put them back. */
    public Map<String, INDArray> swapIn(Map<String, Parameter> params) {
        Map<String, INDArray> raw = new LinkedHashMap<>();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            params.forEach((k, p) -> {
                raw.put(k, p.value().dup('c'));
                p.value().assign(shadow.get(k));
            });
        }
        return raw;
    }

    public static void restore(Map<String, Parameter> params, Map<String, INDArray> raw) {
        params.forEach((k, p) -> p.value().assign(raw.get(k)));
    }
}
