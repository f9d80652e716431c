package dev.nfnets.core;

import dev.nfnets.layers.Activation;

import java.util.Locale;
import java.util.Map;

/**
 * The reference's variance-preserving gammas: {@code gamma * f(x)} has roughly unit variance for
 * {@code x ~ N(0,1)}. These are the literal constants of the DeepMind code (empirical estimates, slightly
 * above the analytic values); they must be used as they are for checkpoint compatibility.
 */
public final class Gammas {
    private static final Map<Activation, Double> TABLE = Map.ofEntries(
            Map.entry(Activation.IDENTITY, 1.0),
            Map.entry(Activation.CELU, 1.270926833152771),
            Map.entry(Activation.ELU, 1.2716004848480225),
            Map.entry(Activation.GELU, 1.7015043497085571),
            Map.entry(Activation.LEAKY_RELU, 1.70590341091156),
            Map.entry(Activation.LOG_SIGMOID, 1.9193484783172607),
            Map.entry(Activation.RELU, 1.7139588594436646),
            Map.entry(Activation.RELU6, 1.7131484746932983),
            Map.entry(Activation.SELU, 1.0008515119552612),
            Map.entry(Activation.SIGMOID, 4.803835391998291),
            Map.entry(Activation.SILU, 1.7881293296813965),
            Map.entry(Activation.SOFT_SIGN, 2.338853120803833),
            Map.entry(Activation.SOFTPLUS, 1.9203323125839233),
            Map.entry(Activation.TANH, 1.5939117670059204),
            // exact GELU is not in the reference table; timm reuses the GELU gamma for it
            Map.entry(Activation.GELU_ERF, 1.7015043497085571));

    private Gammas() {
    }

    public static double of(Activation fn) {
        Double g = TABLE.get(fn);
        if (g == null) {
            throw new IllegalArgumentException("no gamma for activation " + fn.name().toLowerCase(Locale.ROOT));
        }
        return g;
    }
}
