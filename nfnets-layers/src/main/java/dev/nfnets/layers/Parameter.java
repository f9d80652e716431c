package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A learnable tensor with its gradient, tags and a frozen flag.
 *
 * <p>Value and gradient are long-lived: they are always allocated outside any workspace, so a
 * training step's {@link dev.nfnets.layers.memory.StepScope} can be reset without touching them.
 * Backward passes accumulate into {@link #grad()} with {@link #accumulateGrad(INDArray)}. The gradient is
 * allocated on first use: a model that only runs inference never holds one (for NFNet-F0, 286 MB).
 *
 * <p>The constructor takes ownership of a value that is already long-lived and dense (not in a workspace,
 * not a view, c order), as a freshly created array is, instead of copying it; anything else is copied. Pass
 * a copy if you keep using the array.
 *
 * <pre>{@code
 * Parameter w = new Parameter("weight", Nd4j.randn(DataType.FLOAT, 3, 3, 16, 32), Tag.WEIGHT);
 * w.accumulateGrad(dW);       // inside backward
 * w.zeroGrad();               // after the optimizer step
 * }</pre>
 */
public final class Parameter {
    private final String name;
    private final Set<Tag> tags;
    private INDArray value;
    /** {@link #grad} holds stale values that stand for zeros (see {@link #zeroGrad}). */
    private boolean gradZero;
    private INDArray grad;
    /** Counts the calls that may write or replace {@link #grad}: a {@link StaleGradLoan} holds while it is unchanged. */
    private long gradWrites;
    private boolean frozen;

    public Parameter(String name, INDArray value, Tag... tags) {
        this.name = Objects.requireNonNull(name, "name");
        this.tags = tags.length == 0 ? EnumSet.noneOf(Tag.class) : EnumSet.copyOf(Arrays.asList(tags));
        Objects.requireNonNull(value, "value of parameter " + name);
        if (!value.isAttached() && !value.isView() && value.ordering() == 'c' && value.offset() == 0
                && value.data().length() == value.length() && !value.isEmpty()) {
            this.value = value; // a fresh, detached array: no copy (the layers' initialisers create one each)
        } else {
            setValue(value);
        }
    }

    /** The local name given by the owning layer (e.g. {@code weight}); the full dotted name comes from the layer tree. */
    public String name() {
        return name;
    }

    public Set<Tag> tags() {
        return Collections.unmodifiableSet(tags);
    }

    public boolean hasTag(Tag tag) {
        return tags.contains(tag);
    }

    public Parameter addTag(Tag tag) {
        tags.add(tag);
        return this;
    }

    public INDArray value() {
        return value;
    }

    /** The gradient, allocated (zeros, outside any workspace) on first use. */
    public INDArray grad() {
        INDArray g = grad;
        if (g == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                g = Nd4j.zeros(value.dataType(), value.shape());
            }
            grad = g;
        } else if (gradZero) {
            HostArrays.zero(g);
        }
        gradZero = false;
        gradWrites++;
        return g;
    }

    /**
     * Whether the gradient is zero without having been written: never allocated, or marked by {@link #zeroGrad}
     * since. A backward pass that sees this may write its gradient into {@link #gradForWriting()} instead of
     * adding to it, which saves reading the old values, and {@link #zeroGrad} a pass writing zeros.
     */
    public boolean gradIsZero() {
        return grad == null || gradZero;
    }

    /**
     * The gradient buffer for a backward pass that writes every element of it (when {@link #gradIsZero()} was
     * true) or adds to it (otherwise); allocated uninitialised on first use, and no longer marked as zero.
     */
    public INDArray gradForWriting() {
        INDArray g = allocatedGrad();
        gradZero = false;
        gradWrites++;
        return g;
    }

    /** The gradient buffer, allocated uninitialised (outside any workspace) if there is none yet. */
    private INDArray allocatedGrad() {
        if (grad == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                grad = Nd4j.createUninitialized(value.dataType(), value.shape(), 'c');
            }
        }
        return grad;
    }

    /**
     * The gradient buffer lent out while it holds no gradient ({@link #lendStaleGrad}); {@code writes} is the
     * parameter's count of gradient writes when it was lent.
     */
    public record StaleGradLoan(INDArray buffer, long writes) {
    }

    /**
     * Lends the gradient buffer while the gradient is marked zero ({@link #gradIsZero()}), so that the owning layer
     * can keep data of the same shape and type in it until its backward pass writes the gradient: a
     * weight-standardised convolution's standardised kernel, say, which would otherwise take a second
     * kernel-sized array or be computed again. The buffer is allocated (uninitialised, outside any workspace) on
     * first use, and stays marked zero. The loan ends when anything may write the gradient ({@link #grad()},
     * {@link #gradForWriting()}, {@link #accumulateGrad}, {@link #setValue}); {@link #holds} tells. Returns null
     * when the gradient is not marked zero (it holds a gradient being accumulated) or the parameter is frozen.
     */
    public StaleGradLoan lendStaleGrad() {
        if (frozen || !gradIsZero()) {
            return null;
        }
        INDArray g = allocatedGrad();
        gradZero = true;
        return new StaleGradLoan(g, gradWrites);
    }

    /** Whether {@code loan} still holds: nothing may have written the gradient buffer since it was lent. */
    public boolean holds(StaleGradLoan loan) {
        return loan != null && loan.buffer() == grad && loan.writes() == gradWrites && gradZero;
    }


    public long[] shape() {
        return value.shape();
    }

    public long size() {
        return value.length();
    }

    public DataType dataType() {
        return value.dataType();
    }

    public boolean isFrozen() {
        return frozen;
    }

    public void setFrozen(boolean frozen) {
        this.frozen = frozen;
    }

    /**
     * Replaces the value by a detached copy of {@code newValue} (shape may change only through this call);
     * the gradient is reset to zeros of the new shape.
     */
    public void setValue(INDArray newValue) {
        Objects.requireNonNull(newValue, "value of parameter " + name);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            this.value = newValue.dup('c');
            this.grad = null;
            this.gradZero = false;
            this.gradWrites++;
        }
    }

    /** Copies {@code src} into the existing value array; the shape must match exactly. */
    public void assign(INDArray src) {
        if (!Arrays.equals(src.shape(), value.shape())) {
            throw new IllegalArgumentException("parameter '" + name + "': expected shape "
                    + Arrays.toString(value.shape()) + " but got " + Arrays.toString(src.shape()));
        }
        value.assign(src.castTo(value.dataType()));
    }

    /** Adds {@code g} to the gradient in place (no allocation outside the current scope). */
    public void accumulateGrad(INDArray g) {
        if (frozen) {
            return;
        }
        if (!Arrays.equals(g.shape(), value.shape())) {
            throw new IllegalArgumentException("gradient for parameter '" + name + "': expected shape "
                    + Arrays.toString(value.shape()) + " but got " + Arrays.toString(g.shape()));
        }
        if (gradIsZero()) {
            gradForWriting().assign(g);
        } else {
            grad.addi(g);
        }
    }

    /**
     * Sets the gradient to zero: marks it as zero (no pass over memory); the next {@link #grad()} writes the
     * zeros, unless a backward pass first overwrites the whole buffer ({@link #gradIsZero()}).
     */
    public void zeroGrad() {
        if (grad != null) {
            gradZero = true;
        }
    }

    /** Converts value and gradient to {@code type} (used for double-precision gradient checks). */
    public void castTo(DataType type) {
        if (value.dataType() != type) {
            setValue(value.castTo(type));
        }
    }

    @Override
    public String toString() {
        return name + Arrays.toString(value.shape()) + tags;
    }
}
