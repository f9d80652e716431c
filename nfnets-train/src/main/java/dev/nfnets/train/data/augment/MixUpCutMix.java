package dev.nfnets.train.data.augment;

import dev.nfnets.train.data.HostBatch;
import java.util.SplittableRandom;

/**
 * MixUp and CutMix applied to a whole batch, in one of two layouts.
 *
 * <ul>
 *   <li>{@link Mode#PAIR_HALVES} (the NFNet reference, augment {@code cutmix_mixup_...}): the input has
 *       {@code 2B} examples and the output {@code B}. With {@code m = round(B * mixUpFraction)} (B/2 by
 *       default, so the input splits in quarters) and {@code c = B - m}: output {@code i < m} is MixUp of
 *       inputs {@code i} and {@code m + i}; output {@code m + j} is CutMix of inputs {@code 2m + j} (box
 *       source) and {@code 2m + c + j}. Every input is used once, nothing is mixed with itself. An odd
 *       input drops its last example.</li>
 *   <li>{@link Mode#PERMUTATION} (the common "mix with a shuffled copy" form, batch size kept): the input
 *       and output have {@code N} examples; with a random permutation {@code p} of the batch, output
 *       {@code i < m = round(N * mixUpFraction)} is MixUp of inputs {@code i} and {@code p[i]}, the rest are
 *       CutMix of {@code i} (box source) and {@code p[i]}. An example may be paired with itself (then it
 *       is unchanged), and each input appears twice, once as first and once as second partner.</li>
 * </ul>
 *
 * <p>In both, a MixUp output has image {@code lam*a + (1-lam)*b} with {@code lam ~ Beta(alpha, alpha)} drawn
 * per example, a CutMix output has the box of {@code a} pasted on {@code b} (box as in {@link CutMix}) and
 * {@code lam} = covered fraction; targets are {@code lam*t_a + (1-lam)*t_b} (so rows keep summing to 1) and
 * the hard label is {@code a}'s when {@code lam >= 0.5}, else {@code b}'s. Randomness is drawn from the given
 * generator in output order (permutation first in PERMUTATION mode).
 */
public final class MixUpCutMix implements BatchMixer {
    /** See the class comment. */
    public enum Mode {
        PAIR_HALVES,
        PERMUTATION
    }

    private final MixUp mixUp;
    private final Mode mode;
    private final double mixUpFraction;

    /** The reference: alpha 0.2, PAIR_HALVES, half MixUp and half CutMix. */
    public static MixUpCutMix reference() {
        return new MixUpCutMix(0.2, Mode.PAIR_HALVES, 0.5);
    }

    /** Half MixUp, half CutMix in the given layout. */
    public MixUpCutMix(double alpha, Mode mode) {
        this(alpha, mode, 0.5);
    }

    /**
     * @param alpha         MixUp Beta parameter
     * @param mode          layout
     * @param mixUpFraction share of outputs mixed by MixUp, in [0, 1] (1 = MixUp only, 0 = CutMix only)
     */
    public MixUpCutMix(double alpha, Mode mode, double mixUpFraction) {
        if (!(mixUpFraction >= 0 && mixUpFraction <= 1)) {
            throw new IllegalArgumentException("mixUpFraction must be in [0,1], got " + mixUpFraction);
        }
        this.mixUp = new MixUp(alpha);
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.mixUpFraction = mixUpFraction;
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public int inputSize(int outputSize) {
        return mode == Mode.PAIR_HALVES ? 2 * outputSize : outputSize;
    }

    @Override
    public int outputSize(int inputSize) {
        return mode == Mode.PAIR_HALVES ? inputSize / 2 : inputSize;
    }

    /** Number of MixUp outputs in a batch of {@code outputs}. */
    public int mixUpCount(int outputs) {
        return (int) Math.round(outputs * mixUpFraction);
    }

    @Override
    public HostBatch mix(HostBatch in, SplittableRandom rng) {
        int outN = outputSize(in.size());
        int m = mixUpCount(outN);
        int[] first = new int[outN];
        int[] second = new int[outN];
        if (mode == Mode.PAIR_HALVES) {
            int c = outN - m;
            for (int i = 0; i < m; i++) {
                first[i] = i;
                second[i] = m + i;
            }
            for (int j = 0; j < c; j++) {
                first[m + j] = 2 * m + j;
                second[m + j] = 2 * m + c + j;
            }
        } else {
            int[] perm = new int[outN];
            for (int i = 0; i < outN; i++) {
                perm[i] = i;
            }
            for (int i = outN - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int i = 0; i < outN; i++) {
                first[i] = i;
                second[i] = perm[i];
            }
        }
        return mixPairs(in, first, second, m, rng);
    }

    /**
     * Output {@code i} mixes inputs {@code first[i]} and {@code second[i]}: by MixUp for {@code i < mixUps},
     * else by CutMix. Public for callers with their own pairing.
     */
    public HostBatch mixPairs(HostBatch in, int[] first, int[] second, int mixUps, SplittableRandom rng) {
        int n = first.length;
        int ch = in.channels();
        int h = in.height();
        int w = in.width();
        int k = in.numClasses();
        int len = in.exampleLength();
        HostBatch out = HostBatch.allocate(n, ch, h, w, k);
        float[] src = in.images();
        float[] tgt = in.targets();
        for (int i = 0; i < n; i++) {
            int a = first[i];
            int b = second[i];
            float lam;
            if (i < mixUps) {
                lam = mixUp.sampleLambda(rng);
                MixUp.blend(src, a * len, src, b * len, out.images(), i * len, len, lam);
            } else {
                CutMix.Box box = CutMix.sampleBox(h, w, rng);
                lam = CutMix.paste(src, a * len, src, b * len, out.images(), i * len, ch, h, w, box);
            }
            MixUp.blend(tgt, a * k, tgt, b * k, out.targets(), i * k, k, lam);
            out.labels()[i] = lam >= 0.5f ? in.labels()[a] : in.labels()[b];
        }
        return out;
    }

    @Override
    public String toString() {
        return "MixUpCutMix(" + mixUp + ", " + mode + ", mixUpFraction=" + mixUpFraction + ")";
    }
}
