package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.train.data.Batch;
import dev.nfnets.train.data.BatchLoader;
import dev.nfnets.train.data.Dataset;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Top-1 / top-5 accuracy and mean loss of a model over a dataset, in eval mode; optionally with flip test-time
 * augmentation (the logits of each image and of its mirror image averaged).
 */
public final class Evaluator {
    private Evaluator() {
    }

    public record Result(long examples, double top1, double top5, double loss) {
        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "top-1 %.2f%%, top-5 %.2f%%, loss %.4f on %d examples",
                    100 * top1, 100 * top5, loss, examples);
        }
    }

    public static Result evaluate(NFNet model, Dataset data, int batchSize) {
        return evaluate(model, data, batchSize, false);
    }

    /** @param flip also run each image mirrored left-right and average the two logits */
    public static Result evaluate(NFNet model, Dataset data, int batchSize, boolean flip) {
        BatchLoader loader = BatchLoader.sequential(data, batchSize);
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0);
        long n = 0;
        long top1 = 0;
        long top5 = 0;
        double lossSum = 0;
        long batches = 0;
        try (BatchLoader.BatchIterator it = loader.iterator(0)) {
            while (it.hasNext()) {
                Batch b = it.next();
                try (StepScope scope = StepScope.open("eval", model.options())) {
                    INDArray logits = model.forward(b.images(), Mode.EVAL);
                    if (flip) {
                        logits = logits.addi(model.forward(mirror(b.images()), Mode.EVAL)).muli(0.5);
                    }
                    lossSum += ce.compute(logits, b.targets()).loss() * b.size();
                    float[][] rows = logits.toFloatMatrix();
                    requireFinite(rows, batches + 1, n + 1);
                    for (int i = 0; i < rows.length; i++) {
                        int rank = rankOf(rows[i], b.labels()[i]);
                        top1 += rank == 0 ? 1 : 0;
                        top5 += rank < 5 ? 1 : 0;
                    }
                }
                n += b.size();
                Trainer.release(b);
                dev.nfnets.layers.memory.NativeMemory.collectEvery(++batches, 50);
            }
        }
        return new Result(n, (double) top1 / n, (double) top5 / n, lossSum / n);
    }

    /** The images (N, C, H, W) mirrored left-right, as a new array. */
    static INDArray mirror(INDArray images) {
        INDArray out = images.ulike();
        org.nd4j.linalg.factory.Nd4j.exec(org.nd4j.linalg.api.ops.DynamicCustomOp.builder("reverse")
                .addInputs(images).addOutputs(out).addIntegerArguments(3).build());
        return out;
    }

    /**
     * Number of other classes scoring at least as high as the true one: a sample is top-1 correct only when every
     * other logit is strictly below the true one, so a tie (e.g. an all-zero classifier) is not a hit.
     */
    static int rankOf(float[] row, int label) {
        int rank = 0;
        for (int c = 0; c < row.length; c++) {
            if (c != label && !(row[c] < row[label])) {
                rank++;
            }
        }
        return rank;
    }

    /**
     * Fails, naming the batch and the example (both counted from 1) and the class, when a logit is NaN or infinite
     * (the model has diverged or its weights are broken).
     */
    static void requireFinite(float[][] rows, long batchIndex, long firstExample) {
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < rows[i].length; c++) {
                if (!Float.isFinite(rows[i][c])) {
                    throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                            "evaluation batch %d (examples %d..%d): the logit of class %d for example %d is %s; the model's weights or inputs "
                                    + "hold non-finite values, so no accuracy can be reported", batchIndex, firstExample,
                            firstExample + rows.length - 1, c, firstExample + i, rows[i][c]));
                }
            }
        }
    }
}
