package dev.nfnets.core;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The optimizer of a {@link TrainStep} updates with the model's options as they are at each step. */
class TrainStepOptionsTest {
    @AfterEach
    void restore() {
        StepScope.releaseAll();
    }

    /** Records the options it is given and the ones it held at each step. */
    private static final class Recording implements Optimizer {
        NFNetsOptions options = NFNetsOptions.defaults();
        final List<NFNetsOptions> atStep = new ArrayList<>();
        long steps;

        @Override
        public void useOptions(NFNetsOptions o) {
            options = o;
        }

        @Override
        public void step(Map<String, Parameter> params) {
            atStep.add(options);
            steps++;
        }

        @Override
        public long stepCount() {
            return steps;
        }

        @Override
        public void setStepCount(long step) {
            steps = step;
        }

        @Override
        public double currentLearningRate() {
            return 0;
        }

        @Override
        public Map<String, INDArray> state() {
            return Map.of();
        }

        @Override
        public void loadState(Map<String, INDArray> state) {
        }
    }

    @Test
    void optimizerFollowsTheModelsOptionsFromStepToStep() {
        NFNetConfig config = NFNetConfig.builder(NFNetConfig.mnist()).stageWidths(new int[] {16, 32, 32}).stageDepths(new int[] {1, 1, 1})
                .groupWidth(8).finalConvChannels(32).build();
        NFNetsOptions first = NFNetsOptions.builder().floatKernels(true).build();
        NFNetsOptions second = NFNetsOptions.builder().floatKernels(false).hostMaxElements(0).build();
        NFNet net = new NFNet(config, 3, first);
        Recording inner = new Recording();
        TrainStep step = TrainStep.builder(net, new Agc(inner)).loss(new SoftmaxCrossEntropy(0)).build();
        Nd4j.getRandom().setSeed(4);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);
        INDArray y = SoftmaxCrossEntropy.oneHot(new int[] {1, 7}, 10, DataType.FLOAT);

        step.run(x, y);
        net.useOptions(second);
        step.run(x, y);
        step.run(x, y);
        net.useOptions(first);
        step.run(x, y);

        assertEquals(4, inner.atStep.size());
        assertSame(first, inner.atStep.get(0), "the options of the build");
        assertSame(second, inner.atStep.get(1), "a model given new options updates with them at its next step");
        assertSame(second, inner.atStep.get(2));
        assertSame(first, inner.atStep.get(3), "and back");
    }
}
