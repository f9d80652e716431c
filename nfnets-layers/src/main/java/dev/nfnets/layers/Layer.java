package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A differentiable layer with a hand-written backward pass.
 *
 * <p>Life cycle of one training step: {@code forward(x, TRAIN)} keeps what the backward pass needs;
 * {@code backward(gradOut)} returns the gradient with respect to the input and <em>adds</em> the
 * parameter gradients into each {@link Parameter#grad()}. {@code forward(x, EVAL)} keeps nothing, and a
 * later {@code backward} fails. Shapes are checked in Java before any native call, and errors name the
 * layer, the expected and the actual shape.
 *
 * <pre>{@code
 * Layer conv = new Conv2d("conv", 3, 16, 3, 2, Padding.SAME, 1, true);
 * INDArray y = conv.forward(x, Mode.TRAIN);     // x: N,C,H,W
 * INDArray dx = conv.backward(dy);              // conv.parameter("weight").grad() now holds dL/dW
 * }</pre>
 */
public interface Layer {

    /** The layer's local name (the last element of its dotted path). */
    String name();

    INDArray forward(INDArray x, Mode mode);

    INDArray backward(INDArray gradOut);

    /** Output shape for an input shape, without data (batch dimension included; it may be -1). */
    long[] outputShape(long[] inputShape);

    /** Parameters owned directly by this layer, in a stable order. */
    List<Parameter> ownParameters();

    /** Direct child layers, in a stable order. */
    List<Layer> children();

    /**
     * Makes this layer and its descendants compute with {@code options} (which kernels, thresholds, memory
     * policy); a model passes its own down the tree once, when it is built. Layers start with
     * {@link NFNetsOptions#defaults()}.
     */
    default void useOptions(NFNetsOptions options) {
        for (Layer child : children()) {
            child.useOptions(options);
        }
    }

    /** Drops anything cached by the last training forward pass. */
    default void clearCache() {
        for (Layer child : children()) {
            child.clearCache();
        }
    }

    /**
     * All parameters of this layer and its descendants, keyed by dotted path relative to this layer
     * (e.g. {@code stages.1.block0.conv1.weight}), in build order.
     */
    default Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect(this, "", out);
        return out;
    }

    private static void collect(Layer layer, String prefix, Map<String, Parameter> out) {
        for (Parameter p : layer.ownParameters()) {
            out.put(prefix + p.name(), p);
        }
        for (Layer child : layer.children()) {
            collect(child, prefix + child.name() + ".", out);
        }
    }

    /** Number of scalar parameters in this layer and its descendants. */
    default long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) {
            n += p.size();
        }
        return n;
    }

    /** Sets every parameter gradient to zero. */
    default void zeroGrad() {
        for (Parameter p : namedParameters().values()) {
            p.zeroGrad();
        }
    }

    /** Converts all parameters to {@code type} (e.g. DOUBLE for gradient checks). */
    default void castParameters(DataType type) {
        for (Parameter p : namedParameters().values()) {
            p.castTo(type);
        }
    }
}
