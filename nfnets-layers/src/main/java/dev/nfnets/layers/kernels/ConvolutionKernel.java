package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute a 2-D convolution {@code y = conv(x, W) + b} and its gradients {@code dx}, {@code dW}
 * (NCHW activations, HWIO kernels, TF-style SAME or VALID padding, grouped channels).
 *
 * <p>Implementations ({@link Convolutions#choose} picks one per call from the options, the geometry and the input):
 * <ul>
 *   <li>{@link Nd4jConvolution}: ND4J's {@code conv2d} / {@code conv2d_bp}, one call per group over channel
 *       views; the reference implementation, for every geometry and data type.</li>
 *   <li>{@link GemmPointwiseConvolution}: 1x1 stride-1 ungrouped convolutions as GEMMs, per example or over
 *       the whole batch for small planes ({@code nfnets.pointwiseGemm}).</li>
 *   <li>{@link OneDnnConvolution}: spatial FLOAT convolutions through oneDNN directly, one primitive for all
 *       groups ({@code nfnets.onednnConv}).</li>
 * </ul>
 * A kernel gets arrays, the geometry and the options, never the layer that calls it.
 */
public interface ConvolutionKernel {
    /** A short name for logs and profiles. */
    String name();

    /** Writes {@code conv(x, kernel) + bias} into {@code y} (every element; {@code bias} may be null). */
    void forward(ConvGeometry g, INDArray x, INDArray kernel, INDArray bias, INDArray y, NFNetsOptions options);

    /** Writes (overwrites) {@code dx} and {@code dKernel} from the output gradient; the bias gradient is the caller's. */
    void backward(ConvGeometry g, INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dKernel,
                  NFNetsOptions options);
}
