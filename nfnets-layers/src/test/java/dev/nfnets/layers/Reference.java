package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Slow, obviously-correct loops in double precision, used as an independent oracle in tests. */
final class Reference {
    private Reference() {
    }

    /** Grouped convolution, NCHW input, HWIO kernel, TF padding. */
    static INDArray conv(INDArray x, INDArray w, INDArray b, int stride, Padding padding, int groups) {
        int n = (int) x.size(0), c = (int) x.size(1), h = (int) x.size(2), wd = (int) x.size(3);
        int k = (int) w.size(0), ig = (int) w.size(2), o = (int) w.size(3), og = o / groups;
        int oh = (int) padding.outputSize(h, k, stride), ow = (int) padding.outputSize(wd, k, stride);
        int pt = padding.pads(h, k, stride)[0], pl = padding.pads(wd, k, stride)[0];
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, o, oh, ow);
        for (int bi = 0; bi < n; bi++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og;
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double s = b == null ? 0 : b.getDouble(oc);
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = yy * stride + ky - pt, ix = xx * stride + kx - pl;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                    continue;
                                }
                                for (int ic = 0; ic < ig; ic++) {
                                    s += x.getDouble(bi, g * ig + ic, iy, ix) * w.getDouble(ky, kx, ic, oc);
                                }
                            }
                        }
                        y.putScalar(new long[] {bi, oc, yy, xx}, s);
                    }
                }
            }
        }
        return y;
    }

    /** Average pooling, SAME padding, divided by the number of valid elements. */
    static INDArray avgPoolSame(INDArray x, int k, int stride) {
        int n = (int) x.size(0), c = (int) x.size(1), h = (int) x.size(2), w = (int) x.size(3);
        int oh = (int) Padding.SAME.outputSize(h, k, stride), ow = (int) Padding.SAME.outputSize(w, k, stride);
        int pt = Padding.SAME.pads(h, k, stride)[0], pl = Padding.SAME.pads(w, k, stride)[0];
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, c, oh, ow);
        for (int bi = 0; bi < n; bi++) {
            for (int ch = 0; ch < c; ch++) {
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double s = 0;
                        int cnt = 0;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = yy * stride + ky - pt, ix = xx * stride + kx - pl;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    s += x.getDouble(bi, ch, iy, ix);
                                    cnt++;
                                }
                            }
                        }
                        y.putScalar(new long[] {bi, ch, yy, xx}, s / cnt);
                    }
                }
            }
        }
        return y;
    }
}
