/**
 * Using a trained NFNet on images: the reference evaluation preprocessing ({@link
 * dev.nfnets.core.inference.Preprocessing}, built on the TF2-exact resampler {@link
 * dev.nfnets.core.inference.TfResize}), image decoding and colour conversion ({@link
 * dev.nfnets.core.inference.Images}), and a thread-safe top-k classifier ({@link
 * dev.nfnets.core.inference.ImageClassifier}) with ImageNet-1k class names ({@link
 * dev.nfnets.core.inference.ClassNames}). {@link dev.nfnets.core.NFNets} is the short way in.
 *
 * <pre>{@code
 * NFNet model = NFNets.load(Path.of("best.safetensors"));
 * List<Prediction> top5 = NFNets.classifier(model).classify(Path.of("cat.jpg"), 5);
 * }</pre>
 */
package dev.nfnets.core.inference;
