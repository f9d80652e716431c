package dev.nfnets.train.data.augment;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A random transformation of one float CHW image.
 *
 * <p>Contract: the result depends only on the input and on the draws taken from {@code rng}, so an
 * augmentation is reproducible by seeding the generator (the {@link dev.nfnets.train.data.BatchLoader}
 * seeds one per (seed, epoch, example)). Implementations may modify the input in place and return it, or
 * return a new image (for example when the size changes); they must be stateless or thread-safe, as one
 * instance serves all loader threads.
 */
@FunctionalInterface
public interface Augmentation {
    /** Transforms {@code image}, drawing randomness only from {@code rng}. */
    FloatImage apply(FloatImage image, SplittableRandom rng);

    /** Shape {@code [C, H, W]} of the output for an input of shape {@code (c, h, w)}; unchanged by default. */
    default int[] outputShape(int c, int h, int w) {
        return new int[] {c, h, w};
    }

    /** This augmentation followed by {@code next}, sharing one generator. */
    default Augmentation then(Augmentation next) {
        return compose(this, next);
    }

    /** The identity. */
    static Augmentation identity() {
        return Pipeline.EMPTY;
    }

    /** The given augmentations applied in order, sharing one generator. */
    static Augmentation compose(Augmentation... steps) {
        return new Pipeline(List.of(steps));
    }

    /** A sequence of augmentations applied in order. */
    record Pipeline(List<Augmentation> steps) implements Augmentation {
        static final Pipeline EMPTY = new Pipeline(List.of());

        public Pipeline {
            steps = List.copyOf(steps);
        }

        @Override
        public FloatImage apply(FloatImage image, SplittableRandom rng) {
            FloatImage x = image;
            for (Augmentation a : steps) {
                x = a.apply(x, rng);
            }
            return x;
        }

        @Override
        public int[] outputShape(int c, int h, int w) {
            int[] s = {c, h, w};
            for (Augmentation a : steps) {
                s = a.outputShape(s[0], s[1], s[2]);
            }
            return s;
        }

        @Override
        public String toString() {
            return steps.toString();
        }
    }
}
