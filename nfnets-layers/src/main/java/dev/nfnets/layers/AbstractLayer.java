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

    protected AbstractLayer(String name) {
        this.name = Objects.requireNonNull(name, "layer name");
    }

    @Override
    public String name() {
        return name;
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

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + name + ")";
    }
}
