package dev.nfnets.train.cli;

import dev.nfnets.core.NFNetConfig;
import dev.nfnets.train.bench.AlternatingResult;
import dev.nfnets.train.bench.Benchmark;
import dev.nfnets.train.bench.BenchmarkOptions;
import dev.nfnets.train.bench.BenchmarkResult;
import dev.nfnets.train.bench.SoakResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code nfnets bench}: speed and memory of one model on random data (see {@link Benchmark}).
 *
 * <pre>
 *   nfnets bench --model f0 --batch 8 --size 192 --mode train --steps 10 --json
 *   nfnets bench --model f0 --size 128 --soak --steps 1000 --sample-every 50
 *   nfnets bench --model f0 --size 128 --mode train --steps 20 --ab onednnEltwiseMin=16384,131072
 * </pre>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Time forward or training steps of a model on random input; report speed and memory.",
        description = {"Time forward or full training steps of a model on random N(0,1) input and report median ms/step,"
                + " images/s, achieved GFLOP/s (2 x MACs x batch, x3 for a training step) and resident memory"
                + " (VmHWM = peak of the whole process, VmRSS = now).",
                "A training step is forward, cross-entropy with label smoothing 0.1, backward, AGC + SGD (Nesterov 0.9,"
                        + " weight decay 2e-5) and zeroGrad. Native threads (ND4J, OpenMP, oneDNN) follow --threads: auto is 1"
                        + " for models under 100M multiply-accumulates per image, else all cores; an OMP_NUM_THREADS you set wins."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "f0", description = "f0..f7, mnist, or a config JSON file (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch", defaultValue = "8", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--size", description = "input size in pixels (default: the variant's training size)")
    Integer size;

    @Option(names = "--mode", defaultValue = "forward", description = "forward (EVAL forward pass) or train (full step) (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--steps", defaultValue = "10", description = "timed steps (with --soak: training steps) (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "3", description = "untimed warm-up steps first (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the weights, input and labels (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--classes", description = "number of classes (default: the variant's)")
    Integer classes;

    @Option(names = "--soak", description = "memory soak: run --steps training steps and sample the resident memory every --sample-every steps")
    boolean soak;

    @Option(names = "--sample-every", defaultValue = "50", description = "with --soak: steps between memory samples (default: ${DEFAULT-VALUE})")
    int sampleEvery;

    @Option(names = "--profile", description = "also time every layer's forward and backward pass during the timed steps"
            + " (self time per step, by layer kind and input shape)")
    boolean profile;

    @Option(names = "--ab", paramLabel = "KEY=A,B", description = "same-process A/B of one option (a key of the options"
            + " table, e.g. onednnEltwiseMin=16384,131072): the steps alternate between the two values, A B B A ..., and"
            + " the median step time of each is reported; --steps counts both sides")
    String ab;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Option(names = "--threads", defaultValue = "0",
            description = "native threads; 0 = auto, as for train: 1 for models under 100M multiply-accumulates per image, "
                    + "else all cores, unless OMP_NUM_THREADS is set (default: ${DEFAULT-VALUE})")
    int threads;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** {@code --ab KEY=A,B} as {key, A, B}, checked (form, option, values, other flags) before anything runs. */
    private String[] parseAb() {
        String[] kv = ab.split("=", 2);
        String[] values = kv.length == 2 ? kv[1].split(",", -1) : new String[0];
        if (kv[0].isBlank() || values.length != 2 || values[0].isBlank() || values[1].isBlank()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--ab: expected KEY=A,B (e.g. onednnEltwiseMin=16384,131072), got '" + ab + "'");
        }
        if (soak || profile) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ab: not with --soak or --profile");
        }
        String[] args = {kv[0].trim(), values[0].trim(), values[1].trim()};
        try {
            Benchmark.alternatives(args[0], args[1], args[2]);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ab: " + e.getMessage());
        }
        return args;
    }

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(spec, java.util.Set.of("--batch", "--steps", "--sample-every", "--classes"), java.util.Set.of("--seed"));
        OptionChecks.checkSize(spec, "--size", size);
        String[] abArgs = ab == null ? null : parseAb();
        NFNetConfig c = Models.resolve(model);
        if (classes != null) {
            c = NFNetConfig.builder(c).numClasses(classes).build();
        }
        BenchmarkOptions.Builder b = BenchmarkOptions.builder(c).batch(batch).kind(BenchmarkOptions.Kind.parse(mode))
                .warmup(warmup).steps(steps).seed(seed);
        if (size != null) {
            b.size(size);
        }
        BenchmarkOptions o = b.build();
        java.util.Optional<Integer> rerun = Threads.apply(threads, c, size != null ? size : c.trainSize());
        if (rerun.isPresent()) {
            return rerun.get();
        }
        if (abArgs != null) {
            AlternatingResult r = Benchmark.alternate(o, abArgs[0], abArgs[1], abArgs[2]);
            System.out.print(json ? Benchmark.toJson(r.toMap()) + System.lineSeparator() : r.render());
        } else if (soak) {
            SoakResult r = Benchmark.soak(o, sampleEvery);
            System.out.print(json ? Benchmark.toJson(r.toMap()) + System.lineSeparator() : r.render());
        } else {
            BenchmarkResult r = Benchmark.run(o, profile);
            System.out.print(json ? Benchmark.toJson(r.toMap()) + System.lineSeparator() : r.render());
        }
        System.out.flush();
        return 0;
    }
}
