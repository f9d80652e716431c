package dev.nfnets.layers;

/**
 * {@code tanh} for float activations, evaluated in double precision as a clamped rational function
 * {@code x P(x^2) / Q(x^2)} (degree 5 over degree 5 in {@code x^2}, fitted on [0, 9] by {@code tools/fit_tanh.py};
 * maximum absolute error 3.4e-11), so that the result rounded to float is within one float ulp of the exact
 * {@code tanh} (tested against {@code Math.tanh}). Beyond |x| = 9 tanh is +-1 in float.
 *
 * <p>Why not {@code Math.tanh}/{@code Math.exp}: the JIT does not vectorise them, while a loop of
 * multiplications, additions, a division and {@code Math.min}/{@code Math.max} over a Java {@code double[]}
 * runs in AVX registers: about 1.2 ns per element on one core here including the float/double conversions,
 * against 5 ns for a scalar exp. GELU's forward over 10M floats went from about 170 ms (polynomial pass,
 * ND4J's sigmoid, output pass) to well under 20 ms on two threads (docs/BENCHMARKS.md; commit a9893f4, 2026-11-30).
 */
public final class RationalTanh {
    /** Clamp: {@code tanh(9) = 1 - 3.0e-8} rounds to 1 in float. */
    public static final double CLAMP = 9.0;

    private static final double P0 = 0.9999999998575126;
    private static final double P1 = 0.14097611698207888;
    private static final double P2 = 0.00442383458221504;
    private static final double P3 = 4.2220525146431134e-05;
    private static final double P4 = 1.108851413847404e-07;
    private static final double P5 = 3.657620104779803e-11;
    private static final double Q1 = 0.47430944956876897;
    private static final double Q2 = 0.02919365219497812;
    private static final double Q3 = 0.0005004311505424557;
    private static final double Q4 = 2.599013272493142e-06;
    private static final double Q5 = 2.9407631804914497e-09;

    private RationalTanh() {
    }

    /** {@code tanh(u)} to within 3.4e-11. */
    public static double tanh(double u) {
        double x = Math.max(-CLAMP, Math.min(CLAMP, u));
        double z = x * x;
        double p = ((((P5 * z + P4) * z + P3) * z + P2) * z + P1) * z + P0;
        double q = ((((Q5 * z + Q4) * z + Q3) * z + Q2) * z + Q1) * z + 1.0;
        return x * p / q;
    }

    /**
     * GELU's gate {@code sigmoid(2u) = 0.5 (1 + tanh(u))} to within 2e-11 absolute for |u| <= 9, exactly 0 for
     * {@code u <= -9} (where {@code 1 + tanh} is below 3e-8 and the reference's float arithmetic gives 0: a
     * clamped tanh alone would leave 1.5e-8 there, which GELU's derivative multiplies by {@code x^3}), and
     * {@code 1 - 1.5e-8} above 9, which is 1 in float.
     */
    public static double gate(double u) {
        double[] a = {u};
        gateInPlace(a, 1);
        return a[0];
    }

    /**
     * {@code u[i] = gate(u[i])} for {@code i < count}: a plain loop over the array that the JIT vectorises (keep
     * conversions and other work in separate loops, or it may stop doing so).
     */
    public static void gateInPlace(double[] u, int count) {
        for (int i = 0; i < count; i++) {
            double v = u[i];
            double x = Math.max(-CLAMP, Math.min(CLAMP, v));
            double z = x * x;
            double p = ((((P5 * z + P4) * z + P3) * z + P2) * z + P1) * z + P0;
            double q = ((((Q5 * z + Q4) * z + Q3) * z + Q2) * z + Q1) * z + 1.0;
            // branch-free: times 0 at and below -CLAMP, else times 1 (1e300 turns any positive distance into
            // >= 1); above +CLAMP the gate is 1 - 1.5e-8, which rounds to 1 in float
            double notBelow = Math.min(1.0, Math.max(0.0, (v + CLAMP) * 1e300));
            u[i] = 0.5 * (1.0 + x * p / q) * notBelow;
        }
    }
}
