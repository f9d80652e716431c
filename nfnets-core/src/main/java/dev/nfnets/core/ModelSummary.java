package dev.nfnets.core;

import dev.nfnets.layers.Padding;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Shapes, parameters and multiply-accumulates of an NFNet at one input size, computed from the
 * configuration alone (no weights are allocated, so F6 can be summarised on a laptop). MACs follow the
 * reference's {@code count_flops}: every convolution at its input resolution, the SE dense layers and the
 * classifier; activations, pooling and weight standardisation are not counted (the paper calls these "FLOPs").
 *
 * <pre>{@code
 * ModelSummary s = ModelSummary.of(NFNetConfig.f0(), 256);
 * s.totalParams();   // 71,489,284
 * s.totalMacs();     // 12,384,198,656
 * }</pre>
 */
public record ModelSummary(NFNetConfig config, int inputSize, List<Row> rows) {

    /** One layer or block: its output shape {@code (C, H, W)} or {@code (K)}, parameters and MACs per example. */
    public record Row(String name, long[] outputShape, long params, long macs) {
    }

    public static ModelSummary of(NFNetConfig config, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("input size must be positive, got " + size);
        }
        List<Row> rows = new ArrayList<>();
        long h = size;
        int in = config.inChannels();
        for (int i = 0; i < config.stemChannels().length; i++) {
            int out = config.stemChannels()[i];
            int stride = config.stemStrides()[i];
            long oh = Padding.SAME.outputSize(h, 3, stride);
            rows.add(new Row("stem.conv" + i, new long[] {out, oh, oh}, convParams(in, out, 3, 1), convMacs(in, out, 3, 1, oh)));
            h = oh;
            in = out;
        }
        for (NFBlock.BlockSpec s : config.blocks()) {
            long oh = Padding.SAME.outputSize(h, 3, s.stride());
            long params = convParams(s.in(), s.mid(), 1, 1) + convParams(s.mid(), s.mid(), 3, s.groups())
                    + convParams(s.mid(), s.mid(), 3, s.groups()) + convParams(s.mid(), s.out(), 1, 1) + 1;
            long macs = convMacs(s.in(), s.mid(), 1, 1, h) + convMacs(s.mid(), s.mid(), 3, s.groups(), oh)
                    + convMacs(s.mid(), s.mid(), 3, s.groups(), oh) + convMacs(s.mid(), s.out(), 1, 1, oh);
            if (s.projection()) {
                params += convParams(s.in(), s.out(), 1, 1);
                macs += convMacs(s.in(), s.out(), 1, 1, oh);
            }
            if (s.seHidden() > 0) {
                params += 2L * s.out() * s.seHidden() + s.seHidden() + s.out();
                macs += 2L * s.out() * s.seHidden();
            }
            rows.add(new Row("stages." + s.stage() + "." + s.indexInStage(), new long[] {s.out(), oh, oh}, params, macs));
            h = oh;
            in = s.out();
        }
        if (config.finalConvChannels() > 0) {
            int out = config.finalConvChannels();
            rows.add(new Row("final_conv", new long[] {out, h, h}, convParams(in, out, 1, 1), convMacs(in, out, 1, 1, h)));
            in = out;
        }
        int k = config.numClasses();
        rows.add(new Row("classifier", new long[] {k}, (long) in * k + k, (long) in * k));
        return new ModelSummary(config, size, List.copyOf(rows));
    }

    /** WS conv: kernel + gain + bias. */
    private static long convParams(int in, int out, int k, int groups) {
        return (long) k * k * (in / groups) * out + 2L * out;
    }

    /** MACs of a conv whose output is {@code outSize} square. */
    private static long convMacs(int in, int out, int k, int groups, long outSize) {
        return (long) out * outSize * outSize * (in / groups) * k * k;
    }

    public long totalParams() {
        return rows.stream().mapToLong(Row::params).sum();
    }

    public long totalMacs() {
        return rows.stream().mapToLong(Row::macs).sum();
    }

    /** A printable table ending with the lines {@code params: N} and {@code macs@S: N}. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(config).append('\n');
        sb.append(String.format(Locale.ROOT, "%-16s %-20s %14s %18s%n", "layer", "output (C x H x W)", "params", "MACs"));
        for (Row r : rows) {
            long[] s = r.outputShape();
            String shape = s.length == 3 ? s[0] + " x " + s[1] + " x " + s[2] : Long.toString(s[0]);
            sb.append(String.format(Locale.ROOT, "%-16s %-20s %,14d %,18d%n", r.name(), shape, r.params(), r.macs()));
        }
        sb.append("params: ").append(totalParams()).append('\n');
        sb.append("macs@").append(inputSize).append(": ").append(totalMacs()).append('\n');
        return sb.toString();
    }
}
