package dev.nfnets.train.data;

import java.util.List;

/**
 * A {@link Dataset} that passes every call to another one; subclasses override what they change (a subset's
 * {@link #size}, a failure injected into {@link #get}, ...).
 *
 * <p>{@link #original} and the other default methods are not forwarded: they keep the interface's defaults, which
 * read through this object's {@link #get} and {@link #label}, so an override of those is seen by every path that
 * reads examples.
 */
public abstract class ForwardingDataset implements Dataset {
    private final Dataset delegate;

    protected ForwardingDataset(Dataset delegate) {
        this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
    }

    /** The data set calls are passed to. */
    protected final Dataset delegate() {
        return delegate;
    }

    @Override
    public int size() {
        return delegate.size();
    }

    @Override
    public int numClasses() {
        return delegate.numClasses();
    }

    @Override
    public int channels() {
        return delegate.channels();
    }

    @Override
    public int height() {
        return delegate.height();
    }

    @Override
    public int width() {
        return delegate.width();
    }

    @Override
    public List<String> classNames() {
        return delegate.classNames();
    }

    @Override
    public void get(int index, float[] dstCHW) {
        delegate.get(index, dstCHW);
    }

    @Override
    public int label(int index) {
        return delegate.label(index);
    }

    @Override
    public String description() {
        return delegate.description();
    }

    @Override
    public Normalization normalization() {
        return delegate.normalization();
    }
}
