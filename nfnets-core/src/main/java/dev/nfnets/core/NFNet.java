package dev.nfnets.core;

import dev.nfnets.layers.AbstractLayer;
import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.ChannelBlocks;
import dev.nfnets.layers.Dropout;
import dev.nfnets.layers.GlobalAvgPool;
import dev.nfnets.layers.Linear;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Sequential;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.memory.Scratch;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.Stochastic;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.kernels.Convolutions;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An NFNet built from an {@link NFNetConfig}: stem of WS convolutions, the NF blocks stage by stage, a final
 * 1x1 WS convolution with activation, global average pooling, dropout and the linear classifier
 * (initialised N(0, 0.01), tagged {@link Tag#CLASSIFIER}). Input NCHW, output raw logits.
 *
 * <p>Parameter names form a tree: {@code stem.conv0.weight}, {@code stages.2.3.conv1b.gain},
 * {@code stages.0.0.squeeze_excite.linear_1.bias}, {@code stages.1.0.skip_gain}, {@code final_conv.weight},
 * {@code classifier.weight}. Kernels are HWIO and dense weights (in, out), as in the reference checkpoints.
 *
 * <pre>{@code
 * NFNet model = new NFNet(NFNetConfig.f0());
 * INDArray logits = model.forward(images, Mode.EVAL);   // images (N,3,256,256)
 * }</pre>
 *
 * <p>Kernels: none of its own; the stem, the blocks ({@link NFBlock}), the final convolution and the classifier
 * run theirs.
 */
public class NFNet extends AbstractLayer {
    private final NFNetConfig config;
    private final Sequential stem;
    /** The stem's convolutions, in order. */
    private final List<WSConv2d> stemConvs = new ArrayList<>();
    /** The stem's activations, in order; activation i feeds convolution i + 1. */
    private final List<ActivationLayer> stemActs = new ArrayList<>();
    private final Sequential stages;
    private final List<NFBlock> blocks = new ArrayList<>();
    private final WSConv2d finalConv;
    private final ActivationLayer finalAct;
    private final GlobalAvgPool pool;
    private final Dropout dropout;
    private final Linear classifier;

    /** The input shape of the last training forward pass (the backward pass sizes its buffers from it). */
    private long[] cachedInputShape;
    private List<String> classNames;

    /**
     * Builds the network with weights drawn from ND4J's global random generator as it stands and
     * {@link NFNetsOptions#defaults()}; use {@link #NFNet(NFNetConfig, long)} for a reproducible initialisation.
     */
    public NFNet(NFNetConfig config) {
        this(config, NFNetsOptions.defaults());
    }

    /** Builds the network with weights drawn from ND4J's global random generator as it stands. */
    public NFNet(NFNetConfig config, NFNetsOptions options) {
        super("nfnet");
        this.config = config;
        useOptions(options);
        Activation act = config.activationFunction();
        double gamma = config.effectiveGamma();
        stem = addChild(new Sequential("stem"));
        int in = config.inChannels();
        int[] sc = config.stemChannels();
        for (int i = 0; i < sc.length; i++) {
            WSConv2d conv = new WSConv2d("conv" + i, in, sc[i], 3, config.stemStrides()[i], 1);
            stem.add(conv);
            stemConvs.add(conv);
            if (i < sc.length - 1) {
                ActivationLayer a = new ActivationLayer("act" + i, act, gamma).inPlaceInference(true); // after a conv
                stem.add(a);
                stemActs.add(a);
            }
            in = sc[i];
        }
        stages = addChild(new Sequential("stages"));
        Sequential stage = null;
        for (NFBlock.BlockSpec spec : config.blocks()) {
            if (spec.indexInStage() == 0) {
                stage = new Sequential(Integer.toString(spec.stage()));
                stages.add(stage);
            }
            NFBlock block = new NFBlock(Integer.toString(spec.indexInStage()), spec, config.alpha(), act, gamma);
            stage.add(block);
            blocks.add(block);
            in = spec.out();
        }
        if (config.finalConvChannels() > 0) {
            finalConv = addChild(new WSConv2d("final_conv", in, config.finalConvChannels(), 1, 1, 1));
            in = config.finalConvChannels();
        } else {
            finalConv = null;
        }
        // without a final conv the reference (NF-ResNet) still activates before pooling
        finalAct = addChild(new ActivationLayer("final_act", act, gamma).inPlaceInference(finalConv != null));
        pool = addChild(new GlobalAvgPool("pool"));
        dropout = addChild(new Dropout("dropout", config.dropRate()));
        classifier = addChild(new Linear("classifier", in, config.numClasses(), 0.01, true, Tag.CLASSIFIER));
        keepActivationGates(options.keepActivationGates(ModelSummary.of(config, config.trainSize()).totalMacs()));
    }

    /**
     * Whether training keeps each activation's gate for the backward pass ({@link ActivationLayer#keepGate}).
     * The default comes from the options ({@link NFNetsOptions#keepActivationGates(long)}): with
     * {@code nfnets.activationGates=auto}, kept below {@code nfnets.activationGatesMaxMacs} multiply-accumulates
     * per image at the training size (small models are bound by per-op cost), recomputed above it (large ones
     * by memory).
     */
    public void keepActivationGates(boolean keep) {
        for (dev.nfnets.layers.Layer l : stem.children()) {
            if (l instanceof ActivationLayer a) {
                a.keepGate(keep);
            }
        }
        blocks.forEach(b -> b.keepActivationGates(keep));
        finalAct.keepGate(keep);
    }

    /**
     * Builds the network with a reproducible initialisation from {@code seed} and
     * {@link NFNetsOptions#defaults()}. The weights are drawn from a generator of their own: ND4J's global
     * generator is left as it was.
     */
    public NFNet(NFNetConfig config, long seed) {
        this(config, seed, NFNetsOptions.defaults());
    }

    /** Builds the network with a reproducible initialisation from {@code seed}, computing with {@code options}. */
    public NFNet(NFNetConfig config, long seed, NFNetsOptions options) {
        this(seeded(config, seed), options);
        restoreGlobalRandom();
    }

    /**
     * ND4J draws initial weights from its global generator (the layers' constructors call {@code Nd4j.randn}):
     * the seeded constructor saves that generator's state, seeds it for the build and puts the state back.
     */
    private static final ThreadLocal<long[]> SAVED = new ThreadLocal<>();

    private static NFNetConfig seeded(NFNetConfig config, long seed) {
        // ND4J M2.1 does not reproduce its sequence after setSeed(0): map every seed to a non-zero one
        long s = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        org.nd4j.linalg.api.rng.Random global = org.nd4j.linalg.factory.Nd4j.getRandom();
        SAVED.set(new long[] {global.rootState(), global.nodeState()});
        global.setSeed(s == 0 ? 1 : s);
        return config;
    }

    /**
     * The class names of the outputs, when known: set by whoever trains the model, saved in native weight files
     * and restored by {@code Weights.load}; {@code NFNets.classifier(model)} prints them.
     */
    public java.util.Optional<List<String>> classNames() {
        return java.util.Optional.ofNullable(classNames);
    }

    /**
     * Names the model's outputs (null forgets them).
     *
     * @throws IllegalArgumentException when the count differs from the model's classes or a name is blank or
     *                                  contains a line break
     */
    public void setClassNames(List<String> names) {
        if (names == null) {
            classNames = null;
            return;
        }
        if (names.size() != config.numClasses()) {
            throw new IllegalArgumentException("model '" + config.name() + "' has " + config.numClasses()
                    + " classes, got " + names.size() + " class names");
        }
        for (String n : names) {
            if (n == null || n.isBlank() || n.indexOf('\n') >= 0 || n.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("class names must be non-blank single lines, got '" + n + "'");
            }
        }
        classNames = List.copyOf(names);
    }

    private static void restoreGlobalRandom() {
        long[] saved = SAVED.get();
        SAVED.remove();
        if (saved != null) {
            org.nd4j.linalg.factory.Nd4j.getRandom().setStates(saved[0], saved[1]);
        }
    }

    public NFNetConfig config() {
        return config;
    }

    public List<NFBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    public Linear classifier() {
        return classifier;
    }

    public Sequential stem() {
        return stem;
    }

    /** Every layer that draws random numbers in training (dropout, stochastic depth), in a stable order. */
    public List<Stochastic> stochasticLayers() {
        List<Stochastic> out = new ArrayList<>();
        for (NFBlock b : blocks) {
            if (b.stochasticDepth() != null) {
                out.add(b.stochasticDepth());
            }
        }
        out.add(dropout);
        return out;
    }

    /** Reseeds every stochastic layer from one seed (the trainer calls this with a per-step seed). */
    public void reseed(long seed) {
        reseed(seed, 0);
    }

    /**
     * Reseeds every stochastic layer for a forward pass over examples {@code firstExample, firstExample + 1, ...}
     * of the step's global batch: a shard of the batch then draws the masks the whole batch draws for those
     * examples ({@link Stochastic}).
     */
    public void reseed(long seed, long firstExample) {
        List<Stochastic> layers = stochasticLayers();
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).reseed(seed * 0x9E3779B97F4A7C15L + i, firstExample);
        }
    }

    /** Pooled features before dropout and the classifier, {@code (N, features)}. */
    public INDArray features(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, config.inChannels(), -1, -1});
        if (x.size(2) < 1 || x.size(3) < 1) {
            throw new IllegalArgumentException("layer 'nfnet': empty input " + java.util.Arrays.toString(x.shape()));
        }
        cachedInputShape = mode.isTraining() ? x.shape() : null;
        // one program for both modes; only the memory policy differs. Training keeps every array in the step's
        // scope (the backward pass reads the caches); inference caches nothing, so each block's temporaries are
        // recycled for the next block and the block outputs take turns in two buffers
        StepScope.Carry carry = mode.isTraining() ? null : new StepScope.Carry(largestBlockIo(x.shape()));
        // training: the blocks' activation outputs, which only feed convolutions, take turns in one buffer and
        // are recomputed in the backward pass instead of each staying in the step's scope until its end
        Scratch scratch = mode.isTraining() && options().recomputeActivations()
                ? new Scratch(x.dataType(), largestBlockScratch(x.shape())) : null;
        for (NFBlock b : blocks) {
            b.useScratch(scratch);
        }
        useStemChannelBlocks(x);
        boolean fold = options().foldActivationGains();
        for (int i = 0; i < stemActs.size(); i++) {
            NFBlock.fold(stemActs.get(i), fold, stemConvs.get(i + 1));
        }
        INDArray h = inCarry(carry, in -> stem.forward(in, mode), x);
        for (NFBlock b : blocks) {
            h = inCarry(carry, in -> b.forward(in, mode), h);
        }
        if (finalConv != null) {
            h = finalConv.forward(h, mode);
        }
        return pool.forward(finalAct.forward(h, mode), mode);
    }

    /** {@code f(in)}, in a child scope of {@code carry} when there is one. */
    private static INDArray inCarry(StepScope.Carry carry, java.util.function.UnaryOperator<INDArray> f, INDArray in) {
        return carry == null ? f.apply(in) : carry.nested(f, in);
    }

    /**
     * Lets the activations between the stem's convolutions stay in oneDNN's blocked layout ({@link ChannelBlocks}) when
     * all of them run on oneDNN for input {@code x} and their widths allow it ({@code nfnets.channelBlocks}); the
     * stem's input and output stay NCHW.
     */
    private void useStemChannelBlocks(INDArray x) {
        List<WSConv2d> convs = stemConvs;
        boolean on = options().channelBlocks() && Convolutions.allOnOneDnn(x, options());
        for (int i = 0; i + 1 < convs.size(); i++) {
            on &= ChannelBlocks.fits(convs.get(i).outChannels());
        }
        for (int i = 0; i < convs.size(); i++) {
            convs.get(i).channelBlocks(on && i > 0, on && i + 1 < convs.size());
        }
    }

    /** Elements of the largest array passed between the stem and the blocks for input shape {@code in}. */
    private long largestBlockIo(long[] in) {
        long[] s = stem.outputShape(in);
        long max = length(s);
        for (NFBlock b : blocks) {
            s = b.outputShape(s);
            max = Math.max(max, length(s));
        }
        return max;
    }

    /** Elements of the largest activation output of any block for input shape {@code in} ({@link NFBlock#scratchElements}). */
    private long largestBlockScratch(long[] in) {
        long[] s = stem.outputShape(in);
        long max = 1;
        for (NFBlock b : blocks) {
            max = Math.max(max, b.scratchElements(s));
            s = b.outputShape(s);
        }
        return max;
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return classifier.forward(dropout.forward(features(x, mode), mode), mode);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray g = pool.backward(dropout.backward(classifier.backward(gradOut)));
        g = finalAct.backward(g);
        if (finalConv != null) {
            g = finalConv.backward(g);
        }
        // each block's backward temporaries live in a child scope that is recycled for the next block; the
        // gradients between blocks take turns in two buffers
        StepScope.Carry carry = new StepScope.Carry(largestBlockIo(requireCached(cachedInputShape)));
        for (int i = blocks.size() - 1; i >= 0; i--) {
            g = carry.nested(blocks.get(i)::backward, g);
        }
        return StepScope.nested(stem::backward, g);
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        long[] s = stages.outputShape(stem.outputShape(inputShape));
        if (finalConv != null) {
            s = finalConv.outputShape(s);
        }
        return classifier.outputShape(pool.outputShape(s));
    }

    @Override
    public void clearCache() {
        super.clearCache(); // every sub-layer is a registered child
        cachedInputShape = null;
    }

    /** Per-layer shapes, parameter counts and multiply-accumulates at a square input size. */
    public ModelSummary summary(int size) {
        return ModelSummary.of(config, size);
    }
}
