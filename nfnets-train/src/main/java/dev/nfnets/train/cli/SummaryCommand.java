package dev.nfnets.train.cli;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Print a model's configuration, per-stage shapes, parameter count and multiply-accumulates.")
final class SummaryCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "f0", description = "f0..f7, mnist, or a config JSON file (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--size", description = "input size in pixels (default: the variant's test size)")
    Integer size;

    @Option(names = "--classes", description = "number of classes (default: the variant's)")
    Integer classes;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(spec, java.util.Set.of("--size", "--classes"), java.util.Set.of());
        NFNetConfig c = Models.resolve(model);
        if (classes != null) {
            c = NFNetConfig.builder(c).numClasses(classes).build();
        }
        System.out.print(ModelSummary.of(c, size == null ? c.testSize() : size).render());
        return 0;
    }
}
