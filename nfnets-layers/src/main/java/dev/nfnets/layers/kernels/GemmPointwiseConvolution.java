package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Pointwise (1x1, stride 1, ungrouped) convolutions as GEMMs on NCHW planes: measured 2-3x faster than ND4J's
 * conv2d/conv2d_bp for NFNet-F0's shapes (forward and backward; docs/BENCHMARKS.md). On planes of at most
 * {@link NFNetsOptions#pointwiseBatchedMaxPlane()} pixels one GEMM covers the whole batch, on copies in
 * {@code (channels, N*H*W)} layout: per-example GEMMs that thin are inefficient, and the weight gradient is read
 * and written once instead of N times (at batch 8, 1536 -> 768 at 6 px backward 10.5 -> 4.8 ms, at 12 px
 * 22.9 -> 17.2 ms; docs/BENCHMARKS.md, commit 284b59f of 2026-11-30); larger planes take one GEMM per example.
 */
public final class GemmPointwiseConvolution implements ConvolutionKernel {
    @Override
    public String name() {
        return "gemm";
    }

    private static boolean batched(INDArray x, NFNetsOptions o) {
        return x.size(0) > 1 && x.size(2) * x.size(3) <= o.pointwiseBatchedMaxPlane();
    }

    @Override
    public void forward(ConvGeometry g, INDArray x, INDArray kernel, INDArray b, INDArray y, NFNetsOptions o) {
        INDArray xd = Convolutions.dense(x);
        INDArray w = Convolutions.dense(kernel).reshape('c', g.inChannels(), g.outChannels());
        if (batched(xd, o)) {
            INDArray yc = Nd4j.createUninitialized(y.dataType(), g.outChannels(), y.length() / g.outChannels());
            Nd4j.gemm(w, channelMajor(xd), yc, true, false, 1.0, 0.0); // Y = W^T X
            fromChannelMajor(yc, y);
        } else {
            for (int n = 0; n < xd.size(0); n++) {
                Nd4j.gemm(w, plane(xd, n), plane(y, n), true, false, 1.0, 0.0); // y_n = W^T x_n
            }
        }
        if (b != null) {
            addBias(y, b, o);
        }
    }

    @Override
    public void backward(ConvGeometry g, INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dk,
                         NFNetsOptions o) {
        INDArray xd = Convolutions.dense(x);
        INDArray gd = Convolutions.dense(gradOut);
        INDArray w = Convolutions.dense(kernel).reshape('c', g.inChannels(), g.outChannels());
        INDArray dw = dk.reshape('c', g.inChannels(), g.outChannels());
        if (batched(xd, o)) {
            INDArray gc = channelMajor(gd);
            Nd4j.gemm(channelMajor(xd), gc, dw, false, true, 1.0, 0.0); // dW = X G^T
            INDArray dxc = Nd4j.createUninitialized(dx.dataType(), g.inChannels(), dx.length() / g.inChannels());
            Nd4j.gemm(w, gc, dxc, false, false, 1.0, 0.0);              // dX = W G
            fromChannelMajor(dxc, dx);
        } else {
            for (int n = 0; n < xd.size(0); n++) {
                INDArray gn = plane(gd, n);
                Nd4j.gemm(plane(xd, n), gn, dw, false, true, 1.0, n == 0 ? 0.0 : 1.0); // dW += x_n g_n^T
                Nd4j.gemm(w, gn, plane(dx, n), false, false, 1.0, 0.0);               // dx_n = W g_n
            }
        }
    }

    /** A dense NCHW array as a new {@code (C, N*H*W)} matrix (planes regrouped by channel). */
    private static INDArray channelMajor(INDArray a) {
        long n = a.size(0);
        long c = a.size(1);
        long hw = a.size(2) * a.size(3);
        INDArray m = Nd4j.createUninitialized(a.dataType(), c, n * hw);
        m.reshape('c', c, n, hw).assign(a.reshape('c', n, c, hw).permute(1, 0, 2));
        return m;
    }

    /** Writes a {@code (C, N*H*W)} matrix into the dense NCHW array {@code out}. */
    private static void fromChannelMajor(INDArray m, INDArray out) {
        long n = out.size(0);
        long c = out.size(1);
        long hw = out.size(2) * out.size(3);
        out.reshape('c', n, c, hw).assign(m.reshape('c', c, n, hw).permute(1, 0, 2));
    }

    /** One example's {@code (channels, H*W)} plane matrix of an NCHW array (a view when the array is c-order dense). */
    private static INDArray plane(INDArray a, int n) {
        return a.get(NDArrayIndex.point(n), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                .reshape('c', a.size(1), a.size(2) * a.size(3));
    }

    /** {@code y[n, c] += b[c]} on every plane: one float pass ({@link FloatKernels}), else ND4J's broadcast add. */
    static void addBias(INDArray y, INDArray b, NFNetsOptions o) {
        if (!FloatKernels.eligible(o, y, b)) {
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp(y, b, y, 1));
            return;
        }
        int c = (int) y.size(1);
        int plane = (int) (y.size(2) * y.size(3));
        int planes = (int) y.size(0) * c;
        java.nio.FloatBuffer yb = FloatKernels.floats(y);
        java.nio.FloatBuffer bb = FloatKernels.floats(b);
        FloatKernels.parallel(planes, y.length(), (p0, p1) -> {
            float[] row = new float[plane];
            for (int p = p0; p < p1; p++) {
                float v = bb.get(p % c);
                yb.get(p * plane, row, 0, plane);
                for (int i = 0; i < plane; i++) {
                    row[i] += v;
                }
                yb.put(p * plane, row, 0, plane);
            }
        });
    }
}
