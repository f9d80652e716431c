package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Activations in oneDNN's 16-channel blocked layout ({@code nChw16c}, oneDNN's tag {@code aBcd16b}): a logical
 * {@code (N, C, H, W)} activation held as the c-order array {@code (N, C/16, H, W, 16)}, element
 * {@code [n, c, h, w]} at {@code [n, c / 16, h, w, c % 16]}. This is the layout oneDNN's convolutions compute in on
 * this machine's AVX-512 kernels, so an activation that only passes from one such convolution to the next through
 * element-wise layers (GELU and its gain) need not be reordered to NCHW and back in between.
 *
 * <p>Why: reorders between NCHW and the blocked layout took 73 ms of NFNet-F0's 1.2 s training step at 128 px
 * (batch 8) and 95 ms of F1's 1.7 s; about 60% of them were of the activations between a block's convolutions
 * (docs/BENCHMARKS.md). {@link Conv2d#channelBlocks} lets an owner (NFNet's blocks) pass such activations in this
 * layout; the option {@code nfnets.channelBlocks} turns it off.
 *
 * <p>Only layers that are told to take or give this layout see it: the rank-5 shape makes any other layer refuse it
 * by shape rather than misread it.
 */
public final class ChannelBlocks {
    /** Channels per block. */
    public static final int BLOCK = 16;

    private ChannelBlocks() {
    }

    /** Whether {@code channels} can be held in blocks: a positive multiple of {@link #BLOCK}. */
    public static boolean fits(long channels) {
        return channels > 0 && channels % BLOCK == 0;
    }

    /** Whether {@code a} is a blocked activation: rank 5 with a last dimension of {@link #BLOCK}. */
    public static boolean is(INDArray a) {
        return a.rank() == 5 && a.size(4) == BLOCK;
    }

    /** The blocked shape {@code (N, C/16, H, W, 16)} of the NCHW shape {@code nchw}. */
    public static long[] blockedShape(long[] nchw) {
        if (nchw.length != 4 || !fits(nchw[1])) {
            throw new IllegalArgumentException("ChannelBlocks: shape " + Shapes.str(nchw)
                    + " is not NCHW with a channel count that is a multiple of " + BLOCK);
        }
        return new long[] {nchw[0], nchw[1] / BLOCK, nchw[2], nchw[3], BLOCK};
    }

    /** The logical NCHW shape of {@code a}: its own shape, or for a blocked activation {@code (N, C, H, W)}. */
    public static long[] logicalShape(INDArray a) {
        if (!is(a)) {
            return a.shape();
        }
        return new long[] {a.size(0), a.size(1) * BLOCK, a.size(2), a.size(3)};
    }

    /** An NCHW activation in the blocked layout: a new c-order array. */
    public static INDArray toBlocked(INDArray nchw) {
        long[] s = blockedShape(nchw.shape());
        return nchw.reshape('c', s[0], s[1], BLOCK, s[2], s[3]).permute(0, 1, 3, 4, 2).dup('c');
    }

    /** A blocked activation in NCHW: a new c-order array. */
    public static INDArray toPlain(INDArray blocked) {
        if (!is(blocked)) {
            throw new IllegalArgumentException("ChannelBlocks: " + Shapes.str(blocked.shape())
                    + " is not a blocked activation (N, C/16, H, W, 16)");
        }
        long[] s = logicalShape(blocked);
        return blocked.permute(0, 1, 4, 2, 3).dup('c').reshape('c', s);
    }

    /** {@code a} in NCHW: itself when it is not blocked, else {@link #toPlain}. */
    public static INDArray plain(INDArray a) {
        return is(a) ? toPlain(a) : a;
    }

    /** An uninitialised array for the NCHW shape {@code nchw}, blocked or not. */
    public static INDArray uninitialized(DataType type, long[] nchw, boolean blocked) {
        return Nd4j.createUninitialized(type, blocked ? blockedShape(nchw) : nchw, 'c');
    }
}
