package dev.nfnets.layers.kernels;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The reference AGC clip: ND4J column norms, host factors, one row-vector multiply when a unit is clipped. */
public final class Nd4jAgcClip implements AgcClipKernel {
    static final Nd4jAgcClip INSTANCE = new Nd4jAgcClip();

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public Clip clip(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps) {
        INDArray p2 = value.reshape('c', rows, cols);
        INDArray g2 = grad.reshape('c', rows, cols);
        // the per-unit arithmetic runs on the host: a few hundred floats per tensor, where a dozen tiny native
        // ops per tensor (hundreds of tensors per step) cost more than the norms themselves
        double[] pn = columnNorms(p2).toDoubleVector();
        double[] gn = columnNorms(g2).toDoubleVector();
        double[] factor = new double[pn.length];
        Clip result = AgcClipKernel.factors(pn, gn, clipping, eps, factor);
        if (result.clippedUnits() > 0) { // otherwise the gradient stays as it is: skip a pass over it
            g2.muliRowVector(Nd4j.createFromArray(factor).castTo(g2.dataType()));
        }
        return result;
    }

    /**
     * The L2 norm of each column of a c-order {@code (rows, units)} matrix, as a vector of length {@code units}.
     * ND4J reduces along dimension 0 one strided column at a time (measured 5-6 ms for a 1152x1536 float
     * matrix on two cores); squaring into a temporary and summing the rows with one GEMM against a vector of
     * ones reads memory in order and took 1.6-4 ms. Over F0's 71.5M parameters (weights and gradients) that
     * is most of AGC's time.
     */
    public static INDArray columnNorms(INDArray m) {
        long rows = m.size(0);
        if (rows == 1 || m.size(1) == 1 || m.length() < 65_536) { // small: one native op beats five
            return m.norm2(0);
        }
        INDArray sq = m.dup('c').muli(m);
        INDArray ones = Nd4j.ones(m.dataType(), rows, 1);
        return Transforms.sqrt(Nd4j.gemm(sq, ones, true, false), false).reshape(m.size(1));
    }
}
