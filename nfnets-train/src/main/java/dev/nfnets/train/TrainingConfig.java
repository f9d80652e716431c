package dev.nfnets.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.ConfigJson;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Everything a training run needs besides the data. Defaults follow the NFNet recipe scaled to small
 * data: SGD with Nesterov momentum 0.9, weight decay 2e-5 (not on gains, biases, skip gains), AGC with
 * clipping 0.01 and eps 1e-3 (classifier weight exempt), learning rate {@code 0.1 * batch / 256} with a
 * linear warm-up then cosine decay to 0, label smoothing 0.1, an EMA of the weights.
 *
 * <pre>{@code
 * TrainingConfig cfg = TrainingConfig.builder(NFNetConfig.mnist()).epochs(10).batchSize(128).build();
 * }</pre>
 *
 * @param learningRate      peak learning rate; NaN means {@code baseLearningRate * batchSize / 256}
 * @param baseLearningRate  learning rate per 256 examples (reference: 0.1)
 * @param clipping          AGC clipping threshold; 0 disables AGC
 * @param agcSkipGains      whether AGC clips the residual branches' skip gains (reference: true). They start at 0, so
 *                          their clipping bound is {@code clipping * agcEps} and they can grow only by about
 *                          {@code lr * clipping * agcEps} per step: fine over the paper's 100k+ steps, but in a run of a
 *                          few thousand steps the residual branches stay switched off. False exempts them (a deviation).
 * @param emaDecay          EMA decay cap (reference: 0.99999, warmed up as {@code min(decay, (1+t)/(10+t))}); 0 disables EMA
 * @param cropPadding       random crop with this much zero padding (0 = off)
 * @param mixupAlpha        MixUp/CutMix Beta parameter (0 = off); half of each batch is MixUp, half CutMix
 * @param maxSteps          stop after this many steps (0 = run all epochs)
 * @param evalFlip          evaluate on each image and its mirror image and average the logits (test-time
 *                          augmentation; off by default, and every report says when it is on)
 * @param checkpointEvery   steps between checkpoints (0 = only at the end)
 */
public record TrainingConfig(
        NFNetConfig model,
        int batchSize,
        int epochs,
        long maxSteps,
        double learningRate,
        double baseLearningRate,
        double warmupEpochs,
        double momentum,
        boolean nesterov,
        double weightDecay,
        double clipping,
        double agcEps,
        boolean agcSkipGains,
        double labelSmoothing,
        double emaDecay,
        int cropPadding,
        boolean flip,
        double mixupAlpha,
        int randAugmentLayers,
        double randAugmentMagnitude,
        int evalEveryEpochs,
        boolean evalFlip,
        int checkpointEvery,
        long seed) {

    public TrainingConfig {
        if (batchSize <= 0 || epochs <= 0) {
            throw new IllegalArgumentException("batch size and epochs must be positive (got " + batchSize + ", " + epochs + ")");
        }
        if (maxSteps < 0 || checkpointEvery < 0 || evalEveryEpochs < 0) {
            throw new IllegalArgumentException("maxSteps, checkpointEvery and evalEveryEpochs must be >= 0");
        }
        if (!(momentum >= 0 && momentum < 1) || !nonNegative(weightDecay) || !nonNegative(clipping)
                || !(labelSmoothing >= 0 && labelSmoothing < 1) || !(emaDecay >= 0 && emaDecay < 1) || !nonNegative(warmupEpochs)
                || cropPadding < 0 || !nonNegative(mixupAlpha) || !(agcEps > 0 && Double.isFinite(agcEps))
                || !(baseLearningRate > 0 && Double.isFinite(baseLearningRate)) || !nonNegative(randAugmentMagnitude)) {
            throw new IllegalArgumentException("invalid training hyper-parameters: " + summaryOf(momentum, weightDecay,
                    clipping, labelSmoothing, emaDecay, warmupEpochs));
        }
        if (!Double.isNaN(learningRate) && !(learningRate > 0 && Double.isFinite(learningRate))) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
    }

    private static String summaryOf(double m, double wd, double c, double ls, double ema, double w) {
        return "momentum " + m + ", weight decay " + wd + ", clipping " + c + ", label smoothing " + ls + ", ema " + ema
                + ", warm-up epochs " + w + " (each a finite number; mixup alpha, base learning rate, AGC eps and RandAugment"
                + " magnitude too)";
    }

    private static boolean nonNegative(double v) {
        return v >= 0 && Double.isFinite(v);
    }

    /** The peak learning rate actually used. */
    public double peakLearningRate() {
        return Double.isNaN(learningRate) ? baseLearningRate * batchSize / 256.0 : learningRate;
    }

    /**
     * The NFNet paper's ImageNet recipe for {@code model} at another batch size and length: SGD Nesterov 0.9,
     * weight decay 2e-5, peak learning rate {@code 0.1 * batch / 256} after a 5-epoch linear warm-up then cosine
     * to 0, AGC clipping 0.01 (eps 1e-3), label smoothing 0.1, EMA 0.99999 with the TF1 warm-up, MixUp/CutMix
     * with alpha 0.2, RandAugment with the variant's layers and magnitude; dropout and stochastic depth come
     * from the model config (F0: 0.2 and 0.25).
     */
    public static TrainingConfig reference(NFNetConfig model, int batchSize, int epochs) {
        return builder(model).batchSize(batchSize).epochs(epochs).baseLearningRate(0.1).warmupEpochs(5).momentum(0.9)
                .nesterov(true).weightDecay(2e-5).clipping(0.01).agcEps(1e-3).agcSkipGains(true).labelSmoothing(0.1).emaDecay(0.99999)
                .mixupAlpha(0.2).randAugment(model.randAugment()[0], model.randAugment()[1]).cropPadding(0).flip(true).build();
    }

    public static Builder builder(NFNetConfig model) {
        return new Builder(model);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** JSON of every field (the model as its own JSON object). */
    public String toJson() {
        ObjectNode n = MAPPER.createObjectNode();
        try {
            n.set("model", MAPPER.readTree(ConfigJson.toJson(model)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        n.put("batchSize", batchSize);
        n.put("epochs", epochs);
        n.put("maxSteps", maxSteps);
        if (Double.isNaN(learningRate)) {
            n.putNull("learningRate");
        } else {
            n.put("learningRate", learningRate);
        }
        n.put("baseLearningRate", baseLearningRate);
        n.put("warmupEpochs", warmupEpochs);
        n.put("momentum", momentum);
        n.put("nesterov", nesterov);
        n.put("weightDecay", weightDecay);
        n.put("clipping", clipping);
        n.put("agcEps", agcEps);
        n.put("agcSkipGains", agcSkipGains);
        n.put("labelSmoothing", labelSmoothing);
        n.put("emaDecay", emaDecay);
        n.put("cropPadding", cropPadding);
        n.put("flip", flip);
        n.put("mixupAlpha", mixupAlpha);
        n.put("randAugmentLayers", randAugmentLayers);
        n.put("randAugmentMagnitude", randAugmentMagnitude);
        n.put("evalEveryEpochs", evalEveryEpochs);
        n.put("evalFlip", evalFlip);
        n.put("checkpointEvery", checkpointEvery);
        n.put("seed", seed);
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TrainingConfig fromJson(String json) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("training config is not valid JSON: " + e.getMessage(), e);
        }
        NFNetConfig model = ConfigJson.fromJson(n.get("model").toString());
        Builder b = builder(model);
        b.batchSize = n.path("batchSize").asInt(b.batchSize);
        b.epochs = n.path("epochs").asInt(b.epochs);
        b.maxSteps = n.path("maxSteps").asLong(b.maxSteps);
        b.learningRate = n.path("learningRate").isNumber() ? n.get("learningRate").asDouble() : Double.NaN;
        b.baseLearningRate = n.path("baseLearningRate").asDouble(b.baseLearningRate);
        b.warmupEpochs = n.path("warmupEpochs").asDouble(b.warmupEpochs);
        b.momentum = n.path("momentum").asDouble(b.momentum);
        b.nesterov = n.path("nesterov").asBoolean(b.nesterov);
        b.weightDecay = n.path("weightDecay").asDouble(b.weightDecay);
        b.clipping = n.path("clipping").asDouble(b.clipping);
        b.agcEps = n.path("agcEps").asDouble(b.agcEps);
        b.agcSkipGains = n.path("agcSkipGains").asBoolean(true);
        b.labelSmoothing = n.path("labelSmoothing").asDouble(b.labelSmoothing);
        b.emaDecay = n.path("emaDecay").asDouble(b.emaDecay);
        b.cropPadding = n.path("cropPadding").asInt(b.cropPadding);
        b.flip = n.path("flip").asBoolean(b.flip);
        b.mixupAlpha = n.path("mixupAlpha").asDouble(b.mixupAlpha);
        b.randAugmentLayers = n.path("randAugmentLayers").asInt(b.randAugmentLayers);
        b.randAugmentMagnitude = n.path("randAugmentMagnitude").asDouble(b.randAugmentMagnitude);
        b.evalEveryEpochs = n.path("evalEveryEpochs").asInt(b.evalEveryEpochs);
        b.evalFlip = n.path("evalFlip").asBoolean(false);
        b.checkpointEvery = n.path("checkpointEvery").asInt(b.checkpointEvery);
        b.seed = n.path("seed").asLong(b.seed);
        return b.build();
    }

    public static final class Builder {
        private NFNetConfig model;
        private int batchSize = 128;
        private int epochs = 10;
        private long maxSteps = 0;
        private double learningRate = Double.NaN;
        private double baseLearningRate = 0.1;
        private double warmupEpochs = 1;
        private double momentum = 0.9;
        private boolean nesterov = true;
        private double weightDecay = 2e-5;
        private double clipping = 0.01;
        private double agcEps = 1e-3;
        private boolean agcSkipGains = true;
        private double labelSmoothing = 0.1;
        private double emaDecay = 0.999;
        private int cropPadding = 0;
        private boolean flip = true;
        private double mixupAlpha = 0;
        private int randAugmentLayers = 0;
        private double randAugmentMagnitude = 0;
        private int evalEveryEpochs = 1;
        private boolean evalFlip = false;
        private int checkpointEvery = 500;
        private long seed = 0;

        private Builder(NFNetConfig model) {
            this.model = model;
        }

        private Builder(TrainingConfig c) {
            model = c.model;
            batchSize = c.batchSize;
            epochs = c.epochs;
            maxSteps = c.maxSteps;
            learningRate = c.learningRate;
            baseLearningRate = c.baseLearningRate;
            warmupEpochs = c.warmupEpochs;
            momentum = c.momentum;
            nesterov = c.nesterov;
            weightDecay = c.weightDecay;
            clipping = c.clipping;
            agcEps = c.agcEps;
            agcSkipGains = c.agcSkipGains;
            labelSmoothing = c.labelSmoothing;
            emaDecay = c.emaDecay;
            cropPadding = c.cropPadding;
            flip = c.flip;
            mixupAlpha = c.mixupAlpha;
            randAugmentLayers = c.randAugmentLayers;
            randAugmentMagnitude = c.randAugmentMagnitude;
            evalEveryEpochs = c.evalEveryEpochs;
            evalFlip = c.evalFlip;
            checkpointEvery = c.checkpointEvery;
            seed = c.seed;
        }

        public Builder model(NFNetConfig v) { model = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder maxSteps(long v) { maxSteps = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder baseLearningRate(double v) { baseLearningRate = v; return this; }
        public Builder warmupEpochs(double v) { warmupEpochs = v; return this; }
        public Builder momentum(double v) { momentum = v; return this; }
        public Builder nesterov(boolean v) { nesterov = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder clipping(double v) { clipping = v; return this; }
        public Builder agcEps(double v) { agcEps = v; return this; }
        public Builder agcSkipGains(boolean v) { agcSkipGains = v; return this; }
        public Builder labelSmoothing(double v) { labelSmoothing = v; return this; }
        public Builder emaDecay(double v) { emaDecay = v; return this; }
        public Builder cropPadding(int v) { cropPadding = v; return this; }
        public Builder flip(boolean v) { flip = v; return this; }
        public Builder mixupAlpha(double v) { mixupAlpha = v; return this; }
        public Builder randAugment(int layers, double magnitude) { randAugmentLayers = layers; randAugmentMagnitude = magnitude; return this; }
        public Builder evalEveryEpochs(int v) { evalEveryEpochs = v; return this; }
        public Builder evalFlip(boolean v) { evalFlip = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public TrainingConfig build() {
            return new TrainingConfig(model, batchSize, epochs, maxSteps, learningRate, baseLearningRate, warmupEpochs,
                    momentum, nesterov, weightDecay, clipping, agcEps, agcSkipGains, labelSmoothing, emaDecay, cropPadding, flip,
                    mixupAlpha, randAugmentLayers, randAugmentMagnitude, evalEveryEpochs, evalFlip, checkpointEvery, seed);
        }
    }
}
