package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The reference implementation: ND4J ops on the {@code (N, out)} view, any floating-point type. */
public final class Nd4jWeightStandardization implements WeightStandardizationKernel {
    /** The centred kernel {@code d}; per channel {@code s}, {@code 1/sqrt(r)}, the gain and 1 where {@code N var > eps}. */
    private record Nd4jState(WeightStandardizationKernel kernel, INDArray centred, INDArray scale, INDArray rsqrt,
                             INDArray gain, INDArray active) implements State {
    }

    Nd4jWeightStandardization() {
    }

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public Forward forward(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, NFNetsOptions o) {
        WeightStandardizationKernel.checkShapes(name() + " weight standardisation", kernel, gain, fanIn);
        long out = gain.length();
        INDArray w2 = kernel.reshape('c', fanIn, out);
        INDArray mean = w2.mean(0);
        INDArray centred = keep ? w2.subRowVector(mean) : null;
        INDArray nvar = w2.var(false, 0).muli(fanIn);
        INDArray r = Transforms.max(nvar, eps, true);
        INDArray rsqrt = Transforms.sqrt(r, false).rdivi(1.0);
        INDArray scale = rsqrt.mul(gain);
        // the reference's fused order: W * scale - mean * scale
        INDArray hat = w2.mulRowVector(scale).subiRowVector(mean.muli(scale));
        State state = keep ? new Nd4jState(this, centred, scale, rsqrt, gain, nvar.gt(eps).castTo(kernel.dataType())) : null;
        return new Forward(hat.reshape('c', kernel.shape()), state);
    }

    @Override
    public INDArray backward(State state, INDArray kernel, INDArray dStandardized, INDArray dKernel, boolean dKernelIsZero,
                             NFNetsOptions o) {
        Nd4jState c = WeightStandardizationKernel.stateOf(this, state, Nd4jState.class);
        long n = c.centred().size(0);
        long out = c.centred().size(1);
        INDArray g2 = dStandardized.reshape('c', n, out);
        INDArray gd = g2.mul(c.centred()).sum(0);                         // sum(G d) per channel
        INDArray dGain = gd.mul(c.rsqrt());
        if (dKernel != null) {
            INDArray dw = g2.subRowVector(g2.mean(0)).muliRowVector(c.scale());
            // - gain * r^(-3/2) * sum(G d) * d, only where the variance floor is inactive
            INDArray coef = c.rsqrt().mul(c.rsqrt()).muli(c.rsqrt()).muli(c.gain()).muli(gd).muli(c.active());
            dw.subi(c.centred().mulRowVector(coef));
            INDArray shaped = dw.reshape('c', dKernel.shape());
            if (dKernelIsZero) {
                dKernel.assign(shaped);
            } else {
                dKernel.addi(shaped);
            }
        }
        return dGain;
    }
}
