package dev.nfnets.train.bench;

import dev.nfnets.core.NFNetConfig;

import java.util.Locale;
import java.util.Objects;

/** Benchmark settings; build with {@link #builder(NFNetConfig)}. */
public record BenchmarkOptions(NFNetConfig config, int batch, int size, Kind kind, int warmup, int steps, long seed) {
    /** What one timed step does. */
    public enum Kind {
        FORWARD, TRAIN;

        /** Forward-pass equivalents of one step: 1 for inference, 3 for forward + backward (input and weight grads). */
        public int flopFactor() {
            return this == FORWARD ? 1 : 3;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String s) {
            String n = s.trim().toLowerCase(Locale.ROOT);
            return switch (n) {
                case "forward", "fwd", "eval", "inference" -> FORWARD;
                case "train", "training" -> TRAIN;
                default -> throw new IllegalArgumentException("unknown benchmark mode '" + s + "'; known: forward, train");
            };
        }
    }

    public BenchmarkOptions {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(kind, "kind");
        if (batch <= 0 || size <= 0) {
            throw new IllegalArgumentException("batch and size must be positive, got batch=" + batch + ", size=" + size);
        }
        if (warmup < 0 || steps <= 0) {
            throw new IllegalArgumentException("warmup must be >= 0 and steps > 0, got warmup=" + warmup + ", steps=" + steps);
        }
    }

    public static Builder builder(NFNetConfig config) {
        return new Builder(config);
    }

    public BenchmarkOptions withKind(Kind k) {
        return new BenchmarkOptions(config, batch, size, k, warmup, steps, seed);
    }

    public BenchmarkOptions withSteps(int n) {
        return new BenchmarkOptions(config, batch, size, kind, warmup, n, seed);
    }

    public static final class Builder {
        private final NFNetConfig config;
        private int batch = 8;
        private int size = -1;
        private Kind kind = Kind.FORWARD;
        private int warmup = 3;
        private int steps = 10;
        private long seed = 42;

        private Builder(NFNetConfig config) {
            this.config = config;
        }

        public Builder batch(int v) { batch = v; return this; }
        /** Square input size in pixels (default: the variant's training size). */
        public Builder size(int v) { size = v; return this; }
        public Builder kind(Kind v) { kind = v; return this; }
        public Builder warmup(int v) { warmup = v; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public BenchmarkOptions build() {
            return new BenchmarkOptions(config, batch, size > 0 ? size : config.trainSize(), kind, warmup, steps, seed);
        }
    }
}
