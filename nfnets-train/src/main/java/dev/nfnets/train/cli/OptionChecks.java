package dev.nfnets.train.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

import java.util.Locale;
import java.util.Set;

/**
 * Checks every numeric option of a command before it runs, so that a value that would otherwise be taken as "off"
 * or "default" ({@code --lr NaN}, {@code --clipping NaN}, {@code --mixup NaN}) or fail deep inside ({@code --size 0})
 * is refused with an error naming the option: floating-point values must be finite, all numbers at least 0 (except
 * those in {@code mayBeNegative}), and those in {@code positive} above 0.
 */
final class OptionChecks {
    /** Largest image side the commands accept for {@code --size} / {@code --image-size}. */
    static final int MAX_SIZE = 4096;

    private OptionChecks() {
    }

    static void check(CommandSpec spec, Set<String> positive, Set<String> mayBeNegative) {
        for (OptionSpec o : spec.options()) {
            Object v = o.getValue();
            if (!(v instanceof Number n)) {
                continue;
            }
            String name = o.longestName();
            if ((v instanceof Double d && !Double.isFinite(d)) || (v instanceof Float f && !Float.isFinite(f))) {
                throw error(spec, name + " must be a finite number, got " + v);
            }
            if (!mayBeNegative.contains(name) && n.doubleValue() < 0) {
                throw error(spec, name + " must not be negative, got " + v);
            }
            if (positive.contains(name) && n.doubleValue() <= 0) {
                throw error(spec, name + " must be positive, got " + v);
            }
        }
    }

    /** An image side given on the command line: 1..{@link #MAX_SIZE}. */
    static void checkSize(CommandSpec spec, String option, Integer size) {
        if (size != null && (size < 1 || size > MAX_SIZE)) {
            throw error(spec, String.format(Locale.ROOT, "%s must be between 1 and %d pixels, got %d", option, MAX_SIZE, size));
        }
    }

    private static ParameterException error(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
