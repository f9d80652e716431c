/**
 * Runnable example programs, each a page of code meant to be copied:
 * {@link dev.nfnets.examples.TrainFashionMnist} (train and evaluate on Fashion-MNIST),
 * {@link dev.nfnets.examples.ClassifyImages} (top-5 classes with pretrained weights),
 * {@link dev.nfnets.examples.FineTuneOnFolder} (fine-tune a pretrained NFNet on an image folder),
 * {@link dev.nfnets.examples.BenchmarkStep} (time forward and training steps) and
 * {@link dev.nfnets.examples.SignalPropagation} (a signal propagation plot at initialisation).
 *
 * <p>Each has a {@code main} and a static method that does the work, which the tests call with tiny settings.
 * Run one with {@code java -cp "nfnets-examples/target/classes:$(cat nfnets-examples/target/classpath.txt)"
 * dev.nfnets.examples.TrainFashionMnist 3 runs/fmnist} after {@code ./nfnets --help} has built the project.
 */
package dev.nfnets.examples;
