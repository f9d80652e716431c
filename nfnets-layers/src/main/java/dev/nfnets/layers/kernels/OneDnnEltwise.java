package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;

import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static dev.nfnets.layers.kernels.OneDnn.*;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * Tanh-approximated GELU, forward and backward, on dense FLOAT arrays through oneDNN's JIT eltwise kernels
 * ({@code dnnl_eltwise_gelu_tanh}), with the layer's gain applied by an in-place {@code eltwise_linear} pass.
 *
 * <p>Why: the Java pass ({@link FloatGelu}'s vectorised rational tanh in double) took about 1.9 ms forward
 * and 2.0 ms backward per {@code [8, 768, 12, 12]} activation in NFNet-F0's step; oneDNN's float kernels take
 * 0.25 ms and 0.5 ms (docs/BENCHMARKS.md; commit f1d21d7, 2026-12-01). They agree with the Java pass to about 4e-8 (output) and
 * 2e-7 (gradient) relative: oneDNN evaluates tanh in float with its own approximation.
 *
 * <p>The arrays are seen as one-dimensional ({@code n} elements), so one plan serves every activation of that
 * size; plans are cached per size and gain, at most {@link #MAX_PLANS}. The options {@code nfnets.onednnEltwise}
 * and {@code nfnets.onednn} ({@link NFNetsOptions}) turn this path off.
 */
public final class OneDnnEltwise {
    private OneDnnEltwise() {
    }

    /** Whether the direct oneDNN GELU can run (natives loaded; the options decide whether a model uses it). */
    public static boolean available() {
        return OneDnn.available();
    }

    private static final class Plan {
        dnnl_memory_desc_t md;
        dnnl_primitive fwd;
        dnnl_primitive bwd;
        dnnl_primitive scale;
        dnnl_primitive_desc[] descs;

        void destroy() {
            dnnl_primitive_destroy(fwd);
            dnnl_primitive_destroy(bwd);
            if (scale != null) {
                dnnl_primitive_destroy(scale);
            }
            for (dnnl_primitive_desc d : descs) {
                if (d != null) {
                    dnnl_primitive_desc_destroy(d);
                }
            }
        }
    }

    public static final int MAX_PLANS = 64;

    private static final Map<String, Plan> PLANS = new OneDnn.PlanCache<>(MAX_PLANS, Plan::destroy);

    private static long calls;

    /** Calls made so far (tests: whether this path ran). */
    public static synchronized long calls() {
        return calls;
    }

    public static synchronized int planCount() {
        return PLANS.size();
    }

    private static synchronized Plan plan(long n, float gain) {
        String key = n + "," + Float.floatToIntBits(gain);
        Plan p = PLANS.get(key);
        if (p != null) {
            return p;
        }
        p = new Plan();
        p.md = md(new long[] {n}, dnnl_a);
        dnnl_eltwise_desc_t fd = new dnnl_eltwise_desc_t();
        check(dnnl_eltwise_forward_desc_init(fd, dnnl_forward_training, dnnl_eltwise_gelu_tanh, p.md, 0f, 0f),
                "GELU forward descriptor");
        dnnl_primitive_desc fpd = pd(fd, null);
        dnnl_eltwise_desc_t bd = new dnnl_eltwise_desc_t();
        check(dnnl_eltwise_backward_desc_init(bd, dnnl_eltwise_gelu_tanh, p.md, p.md, 0f, 0f), "GELU backward descriptor");
        dnnl_primitive_desc bpd = pd(bd, fpd);
        dnnl_primitive_desc spd = null;
        if (gain != 1f) {
            dnnl_eltwise_desc_t sd = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_forward_desc_init(sd, dnnl_forward_inference, dnnl_eltwise_linear, p.md, gain, 0f),
                    "scale descriptor");
            spd = pd(sd, null);
        }
        p.descs = new dnnl_primitive_desc[] {fpd, bpd, spd};
        p.fwd = primitive(fpd);
        p.bwd = primitive(bpd);
        p.scale = spd == null ? null : primitive(spd);
        PLANS.put(key, p);
        return p;
    }

    private static final int[] SRC_DST = {DNNL_ARG_SRC, DNNL_ARG_DST};
    private static final int[] SRC_DDST_DSRC = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};

    /** {@code y = gain * gelu(x)}; {@code x} and {@code y} dense FLOAT arrays of the same length. */
    static synchronized void geluForward(INDArray x, INDArray y, float gain) {
        Plan p = plan(x.length(), gain);
        calls++;
        call(() -> {
            dnnl_memory src = memory(p.md, x);
            dnnl_memory dst = memory(p.md, y);
            exec(p.fwd, SRC_DST, src, dst);
            if (p.scale != null) {
                exec(p.scale, SRC_DST, dst, dst);
            }
        });
    }

    /** {@code dx = gain * gelu'(x) * dy}; all dense FLOAT arrays of the same length. */
    static synchronized void geluBackward(INDArray x, INDArray dy, INDArray dx, float gain) {
        Plan p = plan(x.length(), gain);
        calls++;
        call(() -> {
            dnnl_memory dsrc = memory(p.md, dx);
            exec(p.bwd, SRC_DDST_DSRC, memory(p.md, x), memory(p.md, dy), dsrc);
            if (p.scale != null) {
                exec(p.scale, SRC_DST, dsrc, dsrc);
            }
        });
    }
}
