package dev.nfnets.train.cli;

import dev.nfnets.core.reference.ReferenceCase;
import dev.nfnets.core.reference.ReferenceCheck;
import dev.nfnets.layers.NFNetsOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "check-reference", mixinStandardHelpOptions = true,
        header = "Check the model against a DeepMind reference case (logits, loss, gradients, one step).",
        description = {"Check this implementation against a reference case folder (meta.json + weights, input, logits, loss,",
                "optionally grads.npz and step1.npz). Exits 1 if any error exceeds its tolerance."})
final class CheckReferenceCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "case folder, laid out like fixtures/nfnet-micro/s64")
    Path dir;

    @Option(names = "--tol-logits", defaultValue = "1e-5", description = "max abs logit error (default: ${DEFAULT-VALUE})")
    double tolLogits;

    @Option(names = "--tol-loss", defaultValue = "1e-5", description = "max abs loss error (default: ${DEFAULT-VALUE})")
    double tolLoss;

    @Option(names = "--tol-grads", defaultValue = "1e-4", description = "max per-tensor relative gradient error (default: ${DEFAULT-VALUE})")
    double tolGrads;

    @Option(names = "--tol-skip-gain-grads", defaultValue = "5e-4",
            description = "max relative error of the skip gains' gradients, sums whose terms cancel (default: ${DEFAULT-VALUE})")
    double tolSkipGainGrads;

    @Option(names = "--tol-step", defaultValue = "1e-5", description = "max per-tensor relative error after one step (default: ${DEFAULT-VALUE})")
    double tolStep;

    @Option(names = "--kernels", defaultValue = "reference",
            description = "reference (plain ND4J kernels, closest agreement; alias generic), fast (the tuned kernels training"
                    + " uses; alias onednn) or both (default: ${DEFAULT-VALUE})")
    String kernels;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(spec, java.util.Set.of("--tol-logits", "--tol-loss", "--tol-grads", "--tol-skip-gain-grads", "--tol-step"),
                java.util.Set.of());
        ReferenceCase rc = ReferenceCase.open(dir);
        ReferenceCheck check = new ReferenceCheck(new ReferenceCheck.Tolerances(tolLogits, tolLoss, tolGrads, tolStep, tolSkipGainGrads));
        boolean ok = true;
        for (String k : kernels.equalsIgnoreCase("both") ? new String[] {"reference", "fast"} : new String[] {kernels}) {
            NFNetsOptions.Kernels kind = switch (k.toLowerCase(java.util.Locale.ROOT)) {
                case "reference", "generic" -> NFNetsOptions.Kernels.REFERENCE;
                case "fast", "onednn" -> NFNetsOptions.Kernels.FAST;
                default -> throw new IllegalArgumentException("--kernels must be reference, fast or both, got " + k);
            };
            ReferenceCheck.Report r = check.run(rc, kind);
            System.out.print(r.render());
            ok &= r.ok();
        }
        return ok ? 0 : 1;
    }
}
