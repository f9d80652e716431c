package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/** Layers applied in order; backward walks them in reverse. Kernels: none of its own (its children's). */
public class Sequential extends AbstractLayer {

    public Sequential(String name, Layer... layers) {
        super(name);
        for (Layer l : layers) {
            addChild(l);
        }
    }

    public Sequential add(Layer layer) {
        addChild(layer);
        return this;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        INDArray h = x;
        for (Layer l : children()) {
            h = l.forward(h, mode);
        }
        return h;
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray g = gradOut;
        List<Layer> layers = children();
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g);
        }
        return g;
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        long[] s = inputShape;
        for (Layer l : children()) {
            s = l.outputShape(s);
        }
        return s;
    }
}
