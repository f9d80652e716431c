package dev.nfnets.core;

import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;

import java.util.Locale;
import java.util.Map;

/**
 * What AGC did in one step: per parameter group ({@code weights}, {@code gains}, {@code biases},
 * {@code skip_gains}, {@code se}, {@code classifier}) the number of units and how many were clipped, and the
 * largest {@code ||g|| / max(||w||, eps)} over all units (with the parameter it occurred in).
 */
public record AgcStats(long step, Map<String, Group> groups, double maxRatio, String maxRatioParameter) {
    static final AgcStats EMPTY = new AgcStats(-1, Map.of(), 0, "-");

    public record Group(long units, long clipped, double maxRatio) {
        public double clippedFraction() {
            return units == 0 ? 0 : (double) clipped / units;
        }

        Group plus(Group o) {
            return new Group(units + o.units, clipped + o.clipped, Math.max(maxRatio, o.maxRatio));
        }
    }

    static String groupOf(Parameter p) {
        if (p.hasTag(Tag.SKIP_GAIN)) {
            return "skip_gains";
        }
        if (p.hasTag(Tag.GAIN)) {
            return "gains";
        }
        if (p.hasTag(Tag.CLASSIFIER)) {
            return "classifier";
        }
        if (p.hasTag(Tag.SQUEEZE_EXCITE)) {
            return "se";
        }
        if (p.hasTag(Tag.BIAS)) {
            return "biases";
        }
        return "weights";
    }

    public long totalUnits() {
        return groups.values().stream().mapToLong(Group::units).sum();
    }

    public long totalClipped() {
        return groups.values().stream().mapToLong(Group::clipped).sum();
    }

    /** Fraction of all clipped units over all groups. */
    public double clippedFraction() {
        long u = totalUnits();
        return u == 0 ? 0 : (double) totalClipped() / u;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "AGC step %d: clipped %d/%d units (%.1f%%), max ||g||/||w|| %.4g in %s",
                step, totalClipped(), totalUnits(), 100 * clippedFraction(), maxRatio, maxRatioParameter));
        groups.forEach((k, g) -> sb.append(String.format(Locale.ROOT, "; %s %d/%d", k, g.clipped(), g.units())));
        return sb.toString();
    }
}
