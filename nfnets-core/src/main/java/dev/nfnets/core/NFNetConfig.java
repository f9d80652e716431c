package dev.nfnets.core;

import dev.nfnets.layers.Activation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Everything that defines an NFNet, as data. {@link #f0()} ... {@link #f7()} reproduce the reference
 * variants exactly; {@link #builder(NFNetConfig)} derives custom configurations.
 *
 * <pre>{@code
 * NFNetConfig f0 = NFNetConfig.f0();
 * NFNetConfig small = NFNetConfig.builder(f0).name("f0-10cls").numClasses(10).build();
 * }</pre>
 *
 * @param stemChannels   output channels of the 3x3 stem convolutions (reference: 16, 32, 64, width[0]/2)
 * @param stemStrides    their strides (reference: 2, 1, 1, 2); every stem conv but the last is followed by the activation
 * @param stageWidths    block output channels per stage
 * @param stageDepths    blocks per stage
 * @param stageStrides   stride of the first block of each stage
 * @param groupWidth     channels per group in the grouped 3x3 convolutions
 * @param bottleneckRatio bottleneck width = groupWidth * floor(int(out * ratio) / groupWidth)
 * @param finalConvChannels channels of the final 1x1 convolution (0 = none)
 * @param activation     body activation name (reference table, e.g. gelu = tanh approximation)
 * @param gamma          activation gamma; NaN means the reference table's value for {@code activation}
 * @param randAugment    RandAugment (layers, magnitude) of the training recipe
 */
public record NFNetConfig(
        String name,
        int inChannels,
        int numClasses,
        int[] stemChannels,
        int[] stemStrides,
        int[] stageWidths,
        int[] stageDepths,
        int[] stageStrides,
        int groupWidth,
        double bottleneckRatio,
        double alpha,
        double seRatio,
        String activation,
        double gamma,
        int finalConvChannels,
        double dropRate,
        double stochDepthRate,
        int trainSize,
        int testSize,
        int[] randAugment) {

    private static final int[][] DEPTHS = {{1, 2, 6, 3}, {2, 4, 12, 6}, {3, 6, 18, 9}, {4, 8, 24, 12},
            {5, 10, 30, 15}, {6, 12, 36, 18}, {7, 14, 42, 21}, {8, 16, 48, 24}};
    private static final int[] TRAIN = {192, 224, 256, 320, 384, 416, 448, 480};
    private static final int[] TEST = {256, 320, 352, 416, 512, 544, 576, 608};
    private static final double[] DROP = {0.2, 0.3, 0.4, 0.4, 0.5, 0.5, 0.5, 0.5};
    private static final int[] RA_MAGNITUDE = {5, 10, 10, 15, 15, 15, 15, 15};

    public NFNetConfig {
        requireLength("stemChannels", stemChannels, stemStrides.length, "stemStrides");
        requireLength("stageWidths", stageWidths, stageDepths.length, "stageDepths");
        requireLength("stageStrides", stageStrides, stageDepths.length, "stageDepths");
        if (stemChannels.length == 0 || stageWidths.length == 0) {
            throw new IllegalArgumentException("config '" + name + "': needs at least one stem conv and one stage");
        }
        if (inChannels <= 0 || numClasses <= 0 || groupWidth <= 0) {
            throw new IllegalArgumentException("config '" + name + "': inChannels, numClasses and groupWidth must be positive");
        }
        if (!(dropRate >= 0 && dropRate < 1) || !(stochDepthRate >= 0 && stochDepthRate < 1)) {
            throw new IllegalArgumentException("config '" + name + "': dropRate and stochDepthRate must be in [0, 1)");
        }
        requireAllPositive(name, "stemChannels", stemChannels);
        requireAllPositive(name, "stemStrides", stemStrides);
        requireAllPositive(name, "stageWidths", stageWidths);
        requireAllPositive(name, "stageDepths", stageDepths);
        requireAllPositive(name, "stageStrides", stageStrides);
        if (trainSize <= 0 || testSize <= 0 || finalConvChannels < 0) {
            throw new IllegalArgumentException("config '" + name + "': trainSize and testSize must be positive and "
                    + "finalConvChannels >= 0, got " + trainSize + ", " + testSize + ", " + finalConvChannels);
        }
        if (!(bottleneckRatio > 0 && Double.isFinite(bottleneckRatio)) || !(alpha >= 0 && Double.isFinite(alpha))
                || !(seRatio >= 0 && Double.isFinite(seRatio)) || !(Double.isNaN(gamma) || gamma > 0 && Double.isFinite(gamma))) {
            throw new IllegalArgumentException("config '" + name + "': bottleneckRatio must be a positive number, alpha and seRatio "
                    + "finite and >= 0, gamma positive (or absent); got bottleneckRatio " + bottleneckRatio + ", alpha " + alpha
                    + ", seRatio " + seRatio + ", gamma " + gamma);
        }
        Activation.byName(activation); // fails early with the list of known names
        stemChannels = stemChannels.clone();
        stemStrides = stemStrides.clone();
        stageWidths = stageWidths.clone();
        stageDepths = stageDepths.clone();
        stageStrides = stageStrides.clone();
        randAugment = randAugment == null ? new int[] {0, 0} : randAugment.clone();
    }

    private static void requireAllPositive(String name, String what, int[] a) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] <= 0) {
                throw new IllegalArgumentException("config '" + name + "': " + what + "[" + i + "] must be positive, got " + a[i]
                        + " (" + what + " " + Arrays.toString(a) + ")");
            }
        }
    }

    private static void requireLength(String what, int[] a, int expected, String other) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(what + " must have as many entries as " + other + " (" + expected + "), got "
                    + (a == null ? "null" : Arrays.toString(a)));
        }
    }

    /** NFNet-F{k}, k = 0..7, with 1000 classes, as in the reference variant table. */
    public static NFNetConfig variant(int k) {
        if (k < 0 || k > 7) {
            throw new IllegalArgumentException("NFNet variants are F0..F7, got F" + k);
        }
        return new NFNetConfig("F" + k, 3, 1000, new int[] {16, 32, 64, 128}, new int[] {2, 1, 1, 2},
                new int[] {256, 512, 1536, 1536}, DEPTHS[k], new int[] {1, 2, 2, 2}, 128, 0.5, 0.2, 0.5, "gelu",
                Double.NaN, 3072, DROP[k], 0.25, TRAIN[k], TEST[k], new int[] {4, RA_MAGNITUDE[k]});
    }

    public static NFNetConfig f0() {
        return variant(0);
    }

    public static NFNetConfig f1() {
        return variant(1);
    }

    public static NFNetConfig f2() {
        return variant(2);
    }

    public static NFNetConfig f3() {
        return variant(3);
    }

    public static NFNetConfig f4() {
        return variant(4);
    }

    public static NFNetConfig f5() {
        return variant(5);
    }

    public static NFNetConfig f6() {
        return variant(6);
    }

    public static NFNetConfig f7() {
        return variant(7);
    }

    /**
     * A small NFNet for 28x28 single-channel images (Fashion-MNIST): the reference design (WS convs, gamma
     * GELU, beta/alpha bookkeeping, SE, skip gains, AGC-friendly) with a two-conv stem whose first, 16-channel
     * conv sees the full 28x28 image and whose second halves the resolution (28 -> 14; a stem that halved it
     * in its first conv trained as fast but scored 2.8 points less after one epoch), then stages of width
     * 64-128-256 at 14, 7 and 4 pixels; about 0.75M parameters. Dropout and stochastic
     * depth off: in runs of a few epochs they cost more accuracy than they bring (docs/BENCHMARKS.md); set them with
     * {@code NFNetConfig.builder(mnist()).dropRate(..).stochDepthRate(..)} for longer runs.
     */
    public static NFNetConfig mnist() {
        return new NFNetConfig("nfnet-mnist", 1, 10, new int[] {16, 32}, new int[] {1, 2},
                new int[] {64, 128, 256}, new int[] {1, 2, 2}, new int[] {1, 2, 2}, 32, 0.5, 0.2, 0.5, "gelu",
                Double.NaN, 512, 0.0, 0.0, 28, 28, new int[] {0, 0});
    }

    /** Looks a configuration up by name: f0..f7 (any case) or mnist. */
    public static NFNetConfig byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.matches("f[0-7]")) {
            return variant(n.charAt(1) - '0');
        }
        if (n.equals("mnist") || n.equals("nfnet-mnist")) {
            return mnist();
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: f0..f7, mnist (or a config JSON file)");
    }

    public Activation activationFunction() {
        return Activation.byName(activation);
    }

    /** The gamma actually used: the explicit value, or the reference table's value for the activation. */
    public double effectiveGamma() {
        return Double.isNaN(gamma) ? Gammas.of(activationFunction()) : gamma;
    }

    public int totalBlocks() {
        int n = 0;
        for (int d : stageDepths) {
            n += d;
        }
        return n;
    }

    /** The per-block plan: widths, groups, strides, betas (with the per-stage variance reset) and drop rates. */
    public List<NFBlock.BlockSpec> blocks() {
        List<NFBlock.BlockSpec> out = new ArrayList<>();
        int total = totalBlocks();
        double expectedStd = 1.0;
        int in = stemChannels[stemChannels.length - 1];
        int index = 0;
        for (int s = 0; s < stageWidths.length; s++) {
            for (int b = 0; b < stageDepths[s]; b++) {
                int width = stageWidths[s];
                int groups = (int) (width * bottleneckRatio) / groupWidth;
                if (groups < 1) {
                    throw new IllegalArgumentException("config '" + name + "': stage " + s + " width " + width
                            + " x bottleneck ratio " + bottleneckRatio + " is below the group width " + groupWidth
                            + ", which leaves 0 groups");
                }
                int mid = groups * groupWidth;
                double beta = 1.0 / expectedStd;
                double sd = stochDepthRate * index / total;
                int seHidden = seRatio > 0 ? Math.max(1, (int) (width * seRatio)) : 0;
                out.add(new NFBlock.BlockSpec(index, s, b, in, width, mid, groups, b == 0 ? stageStrides[s] : 1, beta,
                        sd, seHidden));
                if (b == 0) {
                    expectedStd = 1.0;
                }
                expectedStd = Math.sqrt(expectedStd * expectedStd + alpha * alpha);
                in = width;
                index++;
            }
        }
        return out;
    }

    public static Builder builder(NFNetConfig base) {
        return new Builder(base);
    }

    public static Builder builder() {
        return new Builder(f0());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NFNetConfig c && toString().equals(c.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "NFNetConfig[%s: in=%d classes=%d stem=%s/%s widths=%s depths=%s strides=%s groupWidth=%d bottleneck=%s"
                        + " alpha=%s se=%s act=%s gamma=%s finalConv=%d drop=%s stochDepth=%s train/test=%d/%d randAugment=%s]",
                name, inChannels, numClasses, Arrays.toString(stemChannels), Arrays.toString(stemStrides),
                Arrays.toString(stageWidths), Arrays.toString(stageDepths), Arrays.toString(stageStrides), groupWidth,
                bottleneckRatio, alpha, seRatio, activation, effectiveGamma(), finalConvChannels, dropRate, stochDepthRate,
                trainSize, testSize, Arrays.toString(randAugment));
    }

    /** Copy-and-modify builder for custom configurations. */
    public static final class Builder {
        private String name;
        private int inChannels;
        private int numClasses;
        private int[] stemChannels;
        private int[] stemStrides;
        private int[] stageWidths;
        private int[] stageDepths;
        private int[] stageStrides;
        private int groupWidth;
        private double bottleneckRatio;
        private double alpha;
        private double seRatio;
        private String activation;
        private double gamma;
        private int finalConvChannels;
        private double dropRate;
        private double stochDepthRate;
        private int trainSize;
        private int testSize;
        private int[] randAugment;

        private Builder(NFNetConfig c) {
            name = c.name;
            inChannels = c.inChannels;
            numClasses = c.numClasses;
            stemChannels = c.stemChannels;
            stemStrides = c.stemStrides;
            stageWidths = c.stageWidths;
            stageDepths = c.stageDepths;
            stageStrides = c.stageStrides;
            groupWidth = c.groupWidth;
            bottleneckRatio = c.bottleneckRatio;
            alpha = c.alpha;
            seRatio = c.seRatio;
            activation = c.activation;
            gamma = c.gamma;
            finalConvChannels = c.finalConvChannels;
            dropRate = c.dropRate;
            stochDepthRate = c.stochDepthRate;
            trainSize = c.trainSize;
            testSize = c.testSize;
            randAugment = c.randAugment;
        }

        public Builder name(String v) { name = v; return this; }
        public Builder inChannels(int v) { inChannels = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }
        public Builder stem(int[] channels, int[] strides) { stemChannels = channels; stemStrides = strides; return this; }
        public Builder stageWidths(int... v) { stageWidths = v; return this; }
        public Builder stageDepths(int... v) { stageDepths = v; return this; }
        public Builder stageStrides(int... v) { stageStrides = v; return this; }
        public Builder groupWidth(int v) { groupWidth = v; return this; }
        public Builder bottleneckRatio(double v) { bottleneckRatio = v; return this; }
        public Builder alpha(double v) { alpha = v; return this; }
        public Builder seRatio(double v) { seRatio = v; return this; }
        public Builder activation(String v) { activation = v; gamma = Double.NaN; return this; }
        public Builder gamma(double v) { gamma = v; return this; }
        public Builder finalConvChannels(int v) { finalConvChannels = v; return this; }
        public Builder dropRate(double v) { dropRate = v; return this; }
        public Builder stochDepthRate(double v) { stochDepthRate = v; return this; }
        public Builder trainSize(int v) { trainSize = v; return this; }
        public Builder testSize(int v) { testSize = v; return this; }
        public Builder randAugment(int layers, int magnitude) { randAugment = new int[] {layers, magnitude}; return this; }

        public NFNetConfig build() {
            return new NFNetConfig(name, inChannels, numClasses, stemChannels, stemStrides, stageWidths, stageDepths,
                    stageStrides, groupWidth, bottleneckRatio, alpha, seRatio, activation, gamma, finalConvChannels,
                    dropRate, stochDepthRate, trainSize, testSize, randAugment);
        }
    }
}
