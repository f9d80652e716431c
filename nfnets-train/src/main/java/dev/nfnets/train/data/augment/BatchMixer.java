package dev.nfnets.train.data.augment;

import dev.nfnets.train.data.HostBatch;
import java.util.SplittableRandom;

/**
 * A batch-level augmentation that combines examples (MixUp, CutMix). It may consume more examples than it
 * returns: the loader draws {@link #inputSize(int)} examples to build a batch of the requested size.
 */
public interface BatchMixer {
    /** How many input examples make an output batch of {@code outputSize}. */
    int inputSize(int outputSize);

    /** How many examples an input of {@code inputSize} yields (0 when it is too small to mix). */
    int outputSize(int inputSize);

    /** Mixes {@code in} into a new batch of {@link #outputSize(int) outputSize(in.size())} examples. */
    HostBatch mix(HostBatch in, SplittableRandom rng);
}
