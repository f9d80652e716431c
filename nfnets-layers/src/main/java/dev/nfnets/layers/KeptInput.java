package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The input a layer's training forward pass keeps for its backward pass, which the layer's owner may release
 * when it reuses the input's memory before the backward pass (a {@link dev.nfnets.layers.memory.Scratch} view);
 * the backward pass then takes the input again from the owner, who recomputes it.
 */
final class KeptInput {
    private final String layer;
    private INDArray input;
    /** The shape of a released input; null while one is kept or none was. */
    private long[] releasedShape;

    KeptInput(String layer) {
        this.layer = layer;
    }

    /** After a forward pass: {@code x} in training, null in inference. */
    void keep(INDArray x) {
        input = x;
        releasedShape = null;
    }

    void release() {
        releasedShape = get().shape();
        input = null;
    }

    /** The kept input; fails when there is none or it was released. */
    INDArray get() {
        if (input == null) {
            throw new IllegalStateException("layer '" + layer + "': " + (releasedShape != null
                    ? "the input was released after the forward pass; the backward pass needs it given again"
                    + " (backward(gradOut, input))"
                    : "backward() called without a preceding forward(x, TRAIN)"));
        }
        return input;
    }

    /** {@code x}, given again for the backward pass, once checked against the forward pass's input. */
    INDArray given(INDArray x) {
        long[] shape = releasedShape != null ? releasedShape : get().shape();
        Shapes.check(layer, "input given to the backward pass", x, shape);
        return x;
    }

    void clear() {
        input = null;
        releasedShape = null;
    }
}
