package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Padding;

/**
 * The shape of a 2-D convolution that a {@link ConvolutionKernel} needs: channels, square kernel size, stride,
 * padding, groups and whether a bias is added. Activations are NCHW, kernels HWIO {@code (k, k, in/groups, out)}.
 */
public record ConvGeometry(int inChannels, int outChannels, int kernelSize, int stride, Padding padding, int groups,
                           boolean hasBias) {
    public ConvGeometry {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || groups <= 0
                || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("convolution geometry: in=" + inChannels + ", out=" + outChannels + ", k="
                    + kernelSize + ", s=" + stride + ", groups=" + groups + " (all positive, groups dividing in and out)");
        }
    }

    /** 1x1, stride 1, one group. */
    public boolean pointwise() {
        return kernelSize == 1 && stride == 1 && groups == 1;
    }
}
