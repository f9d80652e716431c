package dev.nfnets.core.weights;

import java.util.List;

/** A weight file does not fit the model; lists every missing, unexpected and mis-shaped key at once. */
public class WeightMismatchException extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misShaped;

    public WeightMismatchException(String file, WeightFormat format, List<String> missing, List<String> unexpected,
                                   List<String> misShaped) {
        super(message(file, format, missing, unexpected, misShaped));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misShaped = List.copyOf(misShaped);
    }

    private static String message(String file, WeightFormat format, List<String> missing, List<String> unexpected,
                                  List<String> misShaped) {
        StringBuilder sb = new StringBuilder("weights in " + file + " (" + format + " naming) do not fit the model: "
                + missing.size() + " missing, " + unexpected.size() + " unexpected, " + misShaped.size() + " mis-shaped");
        append(sb, "missing", missing);
        append(sb, "unexpected", unexpected);
        append(sb, "mis-shaped", misShaped);
        return sb.toString();
    }

    private static void append(StringBuilder sb, String what, List<String> items) {
        for (String s : items) {
            sb.append("\n  ").append(what).append(": ").append(s);
        }
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    public List<String> misShaped() {
        return misShaped;
    }
}
