package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Both channel-sum kernels add the per-channel sums into the target, against sums computed here in double. */
class ChannelSumKernelTest {
    @Test
    void bothImplementationsAddThePerChannelSums() {
        Nd4j.getRandom().setSeed(31);
        INDArray a = Nd4j.randn(DataType.FLOAT, 3, 5, 7, 6);
        NFNetsOptions fast = NFNetsOptions.builder().build();
        NFNetsOptions reference = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();
        INDArray probe = Nd4j.create(DataType.FLOAT, 5);
        assertSame(ChannelSums.FLOAT, ChannelSums.choose(a, probe, fast));
        assertSame(ChannelSums.REFERENCE, ChannelSums.choose(a, probe, reference));
        double[] expected = new double[5];
        for (int n = 0; n < 3; n++) {
            for (int c = 0; c < 5; c++) {
                for (int h = 0; h < 7; h++) {
                    for (int w = 0; w < 6; w++) {
                        expected[c] += a.getDouble(n, c, h, w);
                    }
                }
            }
        }
        for (ChannelSumKernel k : new ChannelSumKernel[] {ChannelSums.REFERENCE, ChannelSums.FLOAT}) {
            INDArray into = Nd4j.createFromArray(1f, 2f, 3f, 4f, 5f);
            k.accumulate(a, into, fast);
            for (int c = 0; c < 5; c++) {
                assertEquals(expected[c] + c + 1, into.getDouble(c), 1e-4, k.name() + " channel " + c);
            }
        }
    }
}
