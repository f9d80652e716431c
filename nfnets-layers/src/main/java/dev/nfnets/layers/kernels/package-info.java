/**
 * The ways each computation may run. One interface per computation ({@link dev.nfnets.layers.kernels.ConvolutionKernel},
 * {@link dev.nfnets.layers.kernels.ActivationKernel}, {@link dev.nfnets.layers.kernels.SgdUpdateKernel},
 * {@link dev.nfnets.layers.kernels.AgcClipKernel}, {@link dev.nfnets.layers.kernels.EmaUpdateKernel},
 * {@link dev.nfnets.layers.kernels.WeightStandardizationKernel}, {@link dev.nfnets.layers.kernels.ChannelGateKernel},
 * {@link dev.nfnets.layers.kernels.ChannelSumKernel}, {@link dev.nfnets.layers.kernels.DoubleDotKernel}), each with a plain ND4J reference implementation and the tuned
 * alternatives (oneDNN called directly, GEMMs, vectorised Java passes over native memory). A kernel takes arrays, a
 * geometry and the model's {@link dev.nfnets.layers.NFNetsOptions}, never the layer that calls it;
 * the {@code choose} methods ({@link dev.nfnets.layers.kernels.Convolutions#choose},
 * {@link dev.nfnets.layers.kernels.Activations#choose}, {@link dev.nfnets.layers.kernels.WeightStandardizations#choose}...)
 * hold the rules for which one runs, and a layer's backward pass uses the kernel its forward pass recorded.
 */
package dev.nfnets.layers.kernels;
