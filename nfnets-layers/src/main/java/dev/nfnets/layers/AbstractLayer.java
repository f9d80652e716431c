package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** Common bookkeeping for layers: a name, registered parameters and children, and input checks. */
public abstract class AbstractLayer implements Layer {
    private final String name;
    private final List<Parameter> params = new ArrayList<>();
    private final List<Layer> children = new ArrayList<>();
    private String profileKey;
    private NFNetsOptions options = NFNetsOptions.defaults();

    protected AbstractLayer(String name) {
        this.name = Objects.requireNonNull(name, "layer name");
    }

    @Override
    public String name() {
        return name;
    }

    /** The options this layer computes with. */
    public final NFNetsOptions options() {
        return options;
    }

    @Override
    public void useOptions(NFNetsOptions options) {
        this.options = java.util.Objects.requireNonNull(options, "options");
        Layer.super.useOptions(options);
    }

    protected final Parameter addParameter(Parameter p) {
        for (Parameter q : params) {
            if (q.name().equals(p.name())) {
                throw new IllegalArgumentException("layer '" + name + "' already has a parameter named '" + p.name() + "'");
            }
        }
        params.add(p);
        return p;
    }

    protected final <L extends Layer> L addChild(L child) {
        for (Layer c : children) {
            if (c.name().equals(child.name())) {
                throw new IllegalArgumentException("layer '" + name + "' already has a child named '" + child.name() + "'");
            }
        }
        children.add(child);
        child.useOptions(options);
        return child;
    }

    @Override
    public List<Parameter> ownParameters() {
        return Collections.unmodifiableList(params);
    }

    @Override
    public List<Layer> children() {
        return Collections.unmodifiableList(children);
    }

    /** Looks up a parameter owned directly by this layer. */
    public Parameter parameter(String localName) {
        for (Parameter p : params) {
            if (p.name().equals(localName)) {
                return p;
            }
        }
        throw new IllegalArgumentException("layer '" + name + "' has no parameter '" + localName + "'");
    }

    /** Fails with a message naming this layer when the training cache is missing. */
    protected final <T> T requireCached(T cached) {
        if (cached == null) {
            throw new IllegalStateException("layer '" + name + "': backward() called without a preceding forward(x, TRAIN)");
        }
        return cached;
    }

    protected final void checkInput(INDArray x, long[] expected) {
        Shapes.check(name, "input", x, expected);
    }

    /**
     * Runs a forward pass {@code body} and, while a {@link LayerProfiler} is active, records its time under
     * {@link #profileKey} (kept for the matching backward pass).
     */
    protected final INDArray profileForward(INDArray x, java.util.function.Supplier<INDArray> body) {
        LayerProfiler.Frame f = LayerProfiler.begin();
        if (f == null) {
            return body.get();
        }
        INDArray y = runOpen(f, body);
        profileKey = profileKey(x);
        LayerProfiler.end(f, profileKey, false);
        return y;
    }

    /** Runs a backward pass {@code body}, timed under the key of the last profiled forward pass. */
    protected final INDArray profileBackward(java.util.function.Supplier<INDArray> body) {
        LayerProfiler.Frame f = LayerProfiler.begin();
        if (f == null) {
            return body.get();
        }
        INDArray dx = runOpen(f, body);
        LayerProfiler.end(f, profileKey != null ? profileKey : getClass().getSimpleName() + " (" + name + ")", true);
        return dx;
    }

    /** Runs {@code body} inside the open profiler call {@code f}; a failure abandons the call and propagates. */
    private static INDArray runOpen(LayerProfiler.Frame f, java.util.function.Supplier<INDArray> body) {
        try {
            return body.get();
        } catch (RuntimeException | Error e) {
            LayerProfiler.abandon(f);
            throw e;
        }
    }

    /** What the profiler groups this layer's calls by: its kind and the input shape. */
    protected String profileKey(INDArray x) {
        return getClass().getSimpleName() + " " + Shapes.str(x.shape());
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + name + ")";
    }
}
