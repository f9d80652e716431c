package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.train.data.Batch;
import dev.nfnets.train.data.BatchLoader;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class EvaluatorTest {
    @Test
    void mirrorReversesTheWidthOnly() {
        INDArray x = Nd4j.arange(2 * 3 * 2 * 4).castTo(DataType.FLOAT).reshape(2, 3, 2, 4);
        INDArray m = Evaluator.mirror(x);
        for (int w = 0; w < 4; w++) {
            assertEquals(x.getFloat(1, 2, 1, w), m.getFloat(1, 2, 1, 3 - w), 0f);
            assertEquals(x.getFloat(0, 0, 0, w), m.getFloat(0, 0, 0, 3 - w), 0f);
        }
        assertEquals(x, Evaluator.mirror(m));
    }

    @Test
    void flipAugmentationAveragesTheLogitsOfBothViews() {
        Nd4j.getRandom().setSeed(3);
        NFNet model = new NFNet(NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").numClasses(4)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(32, 64).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(16).finalConvChannels(64).trainSize(12).testSize(12).build());
        for (var p : model.namedParameters().values()) { // a trained-looking model: skip gains away from 0
            if (p.name().equals("skip_gain")) {
                p.value().assign(0.7);
            }
        }
        ToyDataset data = new ToyDataset(24, 4, 12, 9);
        // expected: the loss of the averaged logits, computed here batch by batch
        double expectedLoss = 0;
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0);
        try (BatchLoader.BatchIterator it = BatchLoader.sequential(data, 8).iterator(0)) {
            while (it.hasNext()) {
                Batch b = it.next();
                try (StepScope s = StepScope.open("expected")) {
                    INDArray a = model.forward(b.images(), Mode.EVAL).dup();
                    INDArray f = model.forward(Evaluator.mirror(b.images()), Mode.EVAL);
                    expectedLoss += ce.compute(a.addi(f).muli(0.5), b.targets()).loss() * b.size();
                }
            }
        }
        Evaluator.Result plain = Evaluator.evaluate(model, data, 8, false);
        Evaluator.Result flipped = Evaluator.evaluate(model, data, 8, true);
        assertEquals(expectedLoss / 24, flipped.loss(), 1e-5);
        assertNotEquals(plain.loss(), flipped.loss(), 1e-6);
        assertEquals(24, flipped.examples());
    }
}
