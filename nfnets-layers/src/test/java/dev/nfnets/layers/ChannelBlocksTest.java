package dev.nfnets.layers;

import dev.nfnets.layers.kernels.ChannelSums;
import dev.nfnets.layers.memory.StepScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activations in the 16-channel blocked layout: the layout's element order, and convolutions that take and give it
 * computing the same bits as on NCHW, forward and backward, on oneDNN and on the kernels that get NCHW copies.
 */
class ChannelBlocksTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    private static float[] bits(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    @Test
    void elementNCHWSitsAtBlockCOver16LaneCMod16() {
        INDArray x = Nd4j.linspace(1, 2 * 32 * 3 * 5, 2 * 32 * 3 * 5, DataType.FLOAT).reshape(2, 32, 3, 5);
        INDArray b = ChannelBlocks.toBlocked(x);
        assertArrayEquals(new long[] {2, 2, 3, 5, 16}, b.shape());
        assertTrue(ChannelBlocks.is(b));
        assertFalse(ChannelBlocks.is(x));
        assertArrayEquals(new long[] {2, 32, 3, 5}, ChannelBlocks.logicalShape(b));
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 32; c++) {
                for (int h = 0; h < 3; h++) {
                    for (int w = 0; w < 5; w++) {
                        assertEquals(x.getFloat(n, c, h, w), b.getFloat(n, c / 16, h, w, c % 16), "element " + n + "," + c + "," + h + "," + w);
                    }
                }
            }
        }
        // the c-order buffer runs over the 16 lanes first
        assertEquals(x.getFloat(0, 1, 0, 0), b.data().getFloat(1));
        assertEquals(x.getFloat(0, 0, 0, 1), b.data().getFloat(16));
        assertArrayEquals(bits(x), bits(ChannelBlocks.toPlain(b)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelBlocks.toBlocked(Nd4j.create(DataType.FLOAT, 1, 24, 2, 2)));
        assertTrue(e.getMessage().contains("[1, 24, 2, 2]") && e.getMessage().contains("16"), e.getMessage());
    }

    private record Pass(float[] y, float[] dx, float[] dw, float[] db) {
    }

    /** One training forward and backward pass of a fresh convolution; outputs and gradients compared as NCHW. */
    private static Pass pass(NFNetsOptions o, boolean inBlocked, boolean outBlocked, int k, int stride, int groups) {
        try (StepScope ignored = StepScope.open("channel-blocks-test", o)) {
            Nd4j.getRandom().setSeed(3);
            Conv2d conv = new Conv2d("conv", 32, 48, k, stride, Padding.SAME, groups, true);
            conv.useOptions(o);
            conv.channelBlocks(inBlocked, outBlocked);
            Nd4j.getRandom().setSeed(4);
            INDArray x = Nd4j.randn(DataType.FLOAT, 3, 32, 9, 7);
            INDArray y = conv.forward(inBlocked ? ChannelBlocks.toBlocked(x) : x, Mode.TRAIN);
            assertEquals(outBlocked, ChannelBlocks.is(y), "the output's layout");
            INDArray yPlain = ChannelBlocks.plain(y);
            Nd4j.getRandom().setSeed(5);
            INDArray dy = Nd4j.randn(DataType.FLOAT, yPlain.shape());
            INDArray dx = conv.backward(outBlocked ? ChannelBlocks.toBlocked(dy) : dy);
            assertEquals(inBlocked, ChannelBlocks.is(dx), "the input gradient's layout");
            return new Pass(bits(yPlain), bits(ChannelBlocks.plain(dx)), bits(conv.weight().grad()), bits(conv.bias().grad()));
        }
    }

    @ParameterizedTest(name = "{0}x{0} stride {1} groups {2}, oneDNN {3}")
    @CsvSource({"3, 1, 2, true", "3, 2, 2, true", "1, 1, 1, true", "3, 1, 2, false", "1, 1, 1, false"})
    void blockedInputAndOutputGiveTheSameBits(int k, int stride, int groups, boolean oneDnn) {
        NFNetsOptions o = NFNetsOptions.defaults().toBuilder().oneDnnConv(oneDnn).build();
        Pass plain = pass(o, false, false, k, stride, groups);
        for (boolean in : new boolean[] {false, true}) {
            for (boolean out : new boolean[] {false, true}) {
                Pass p = pass(o, in, out, k, stride, groups);
                String what = "blocked input " + in + ", blocked output " + out + ": ";
                assertArrayEquals(plain.y(), p.y(), what + "output");
                assertArrayEquals(plain.dx(), p.dx(), what + "input gradient");
                assertArrayEquals(plain.dw(), p.dw(), what + "kernel gradient");
                assertArrayEquals(plain.db(), p.db(), what + "bias gradient");
            }
        }
    }

    @Test
    void channelSumsOfABlockedArrayAreTheNCHWSums() {
        Nd4j.getRandom().setSeed(8);
        INDArray a = Nd4j.randn(DataType.FLOAT, 4, 48, 6, 5);
        NFNetsOptions o = NFNetsOptions.defaults();
        for (boolean floats : new boolean[] {true, false}) {
            NFNetsOptions oo = o.toBuilder().floatKernels(floats).build();
            INDArray plain = Nd4j.ones(DataType.FLOAT, 48);
            INDArray blocked = Nd4j.ones(DataType.FLOAT, 48);
            ChannelSums.choose(a, plain, oo).accumulate(a, plain, oo);
            INDArray b = ChannelBlocks.toBlocked(a);
            ChannelSums.choose(b, blocked, oo).accumulate(b, blocked, oo);
            assertArrayEquals(bits(plain), bits(blocked), "float kernels " + floats);
        }
    }

    @Test
    void aLayerRefusesALayoutItWasNotSetTo() {
        Conv2d conv = new Conv2d("conv_x", 32, 16, 3, 1, Padding.SAME, 1, true);
        INDArray blocked = ChannelBlocks.toBlocked(Nd4j.rand(DataType.FLOAT, 1, 32, 4, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv.forward(blocked, Mode.TRAIN));
        assertTrue(e.getMessage().contains("'conv_x'") && e.getMessage().contains("blocked"), e.getMessage());
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d("conv_y", 24, 16, 1, 1, Padding.SAME, 1, false).channelBlocks(true, false));
        assertTrue(channels.getMessage().contains("'conv_y'") && channels.getMessage().contains("in=24"), channels.getMessage());
        conv.channelBlocks(true, true);
        INDArray y = conv.forward(blocked, Mode.TRAIN);
        IllegalArgumentException grad = assertThrows(IllegalArgumentException.class, () -> conv.backward(ChannelBlocks.toPlain(y)));
        assertTrue(grad.getMessage().contains("'conv_x'") && grad.getMessage().contains("output gradient"), grad.getMessage());
    }
}
