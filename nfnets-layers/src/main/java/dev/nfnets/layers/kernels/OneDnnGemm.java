package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Shapes;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.bytedeco.dnnl.global.dnnl.dnnl_sgemm;

/**
 * Matrix products {@code C = op(A) op(B) + beta C} of whole c-order FLOAT matrices through oneDNN's
 * {@code dnnl_sgemm} (row-major), for the dense layers ({@code dev.nfnets.layers.Linear}).
 *
 * <p>Why: squeeze-excite's layers multiply a batch of a few rows by a large weight matrix (NFNet-F1: 36 layers of
 * 1536 x 768 weights). ND4J's {@code gemm} took 13-16 ms for the forward products of 36 such layers whose weights were
 * not in cache, 16-23 ms for the weight gradients and 19 ms for the input gradients; {@code dnnl_sgemm} 6-7, 12 and 9 ms,
 * with the same bits on these shapes (2026-12-07, batch 8). The option {@code nfnets.onednnGemm} (and
 * {@code nfnets.onednn}) turns this path off.
 */
public final class OneDnnGemm {
    private OneDnnGemm() {
    }

    /**
     * Whether this path takes the product of these arrays: the option, the natives (with ND4J's platform helpers on, as
     * for the other oneDNN paths), and whole c-order FLOAT matrices.
     */
    public static boolean takes(NFNetsOptions o, INDArray... arrays) {
        if (!o.oneDnnGemm() || !OneDnn.available() || !Nd4j.getEnvironment().helpersAllowed()) {
            return false;
        }
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || a.rank() != 2 || !Shapes.wholeInCOrder(a)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code c = op(a) op(b) + beta c}, {@code op} the transpose where asked; {@code c} must be {@code op(a)}'s rows by
     * {@code op(b)}'s columns. All three arrays are whole c-order FLOAT matrices ({@link #takes}).
     */
    public static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double beta) {
        long m = transA ? a.columns() : a.rows();
        long k = transA ? a.rows() : a.columns();
        long kb = transB ? b.columns() : b.rows();
        long n = transB ? b.rows() : b.columns();
        if (k != kb || c.rows() != m || c.columns() != n) {
            throw new IllegalArgumentException("oneDNN gemm: op(A) " + m + "x" + k + " times op(B) " + kb + "x" + n
                    + " into C " + Shapes.str(c.shape()));
        }
        OneDnn.check(dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, 1f, floats(a),
                a.columns(), floats(b), b.columns(), (float) beta, floats(c), n), "sgemm");
    }

    private static FloatPointer floats(INDArray a) {
        return new FloatPointer(a.data().addressPointer());
    }
}
