package dev.nfnets.layers.kernels;

import dev.nfnets.layers.ChannelBlocks;
import dev.nfnets.layers.Padding;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

import static dev.nfnets.layers.kernels.OneDnn.*;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * Spatial convolutions (grouped or not) of dense FLOAT NCHW arrays through oneDNN directly (JavaCPP's
 * {@code org.bytedeco:dnnl} preset), one primitive per layer shape and direction, cached.
 *
 * <p>Why: ND4J 1.0.0-M2.1 runs a grouped convolution as one {@code conv2d_bp} per group, and each call reorders
 * its inputs into oneDNN's blocked layouts in freshly allocated buffers, the output gradient twice (once for
 * the data gradient, once for the weight gradient). Here oneDNN sees the whole grouped convolution at once,
 * the blocked copies live in the step's memory scope (reused from step to step, no page faults), and the
 * output gradient is reordered once when both backward primitives use the same layout.
 *
 * <p>Activations are NCHW, or blocked ({@link ChannelBlocks}: rank 5, oneDNN's {@code aBcd16b}) where the caller
 * passes them so; a blocked array goes to oneDNN as it is when the primitive chose that layout, with no reorder.
 * Kernels stay HWIO {@code (k, k, in/groups, out)}: oneDNN reads them through the {@code hwigo} tag.
 * Padding is TF-style SAME (asymmetric when needed) or VALID, as {@link Padding#pads}.
 */
public final class OneDnnConv {
    private OneDnnConv() {
    }

    /** Whether the oneDNN natives loaded (the options decide whether a model uses them). */
    public static boolean available() {
        return OneDnn.available();
    }

    /** One convolution shape: its primitives and the layouts they chose. */
    private static final class Plan {
        dnnl_primitive fwd;
        dnnl_primitive bwdData;
        dnnl_primitive bwdWeights;
        // user (plain) descriptors
        dnnl_memory_desc_t uSrc;
        dnnl_memory_desc_t uW;
        dnnl_memory_desc_t uDst;
        dnnl_memory_desc_t uBias;
        // user descriptors of blocked activations (ChannelBlocks), where the channels allow them; else null
        dnnl_memory_desc_t uSrcBlocked;
        dnnl_memory_desc_t uDstBlocked;
        // chosen descriptors
        dnnl_memory_desc_t fSrc;
        dnnl_memory_desc_t fW;
        dnnl_memory_desc_t fDst;
        dnnl_memory_desc_t bdDy;
        dnnl_memory_desc_t bdW;
        dnnl_memory_desc_t bdDx;
        dnnl_memory_desc_t bwSrc;
        dnnl_memory_desc_t bwDy;
        dnnl_memory_desc_t bwDw;
        final Map<Long, dnnl_primitive> reorders = new HashMap<>();
        dnnl_primitive_desc[] descs;

        void destroy() {
            for (dnnl_primitive_desc d : descs) {
                dnnl_primitive_desc_destroy(d);
            }
            dnnl_primitive_destroy(fwd);
            dnnl_primitive_destroy(bwdData);
            dnnl_primitive_destroy(bwdWeights);
            reorders.values().forEach(r -> dnnl_primitive_destroy(r));
            reorders.clear();
        }
    }

    /** Plans kept at most (least recently used dropped, its primitives destroyed): inputs of many sizes do not grow memory. */
    public static final int MAX_PLANS = 64;

    private static final Map<String, Plan> PLANS = new OneDnn.PlanCache<>(MAX_PLANS, Plan::destroy);

    /** Number of cached plans (tests). */
    public static synchronized int planCount() {
        return PLANS.size();
    }

    private static synchronized Plan plan(long n, long cin, long h, long w, long cout, long oh, long ow, int k, int stride,
                                          int[] padH, int[] padW, int groups, boolean bias) {
        String key = n + "," + cin + "," + h + "," + w + "," + cout + "," + k + "," + stride + "," + padH[0] + padH[1]
                + padW[0] + padW[1] + "," + groups + "," + bias;
        Plan p = PLANS.get(key);
        if (p != null) {
            return p;
        }
        p = new Plan();
        long[] src = {n, cin, h, w};
        long[] dst = {n, cout, oh, ow};
        long[] wts = {groups, cout / groups, cin / groups, k, k};
        long[] st = {stride, stride};
        long[] pl = {padH[0], padW[0]};
        long[] pr = {padH[1], padW[1]};
        p.uSrc = md(src, dnnl_nchw);
        p.uDst = md(dst, dnnl_nchw);
        p.uW = md(wts, dnnl_hwigo);
        p.uBias = bias ? md(new long[] {cout}, dnnl_x) : null;
        p.uSrcBlocked = ChannelBlocks.fits(cin) ? md(src, dnnl_aBcd16b) : null;
        p.uDstBlocked = ChannelBlocks.fits(cout) ? md(dst, dnnl_aBcd16b) : null;
        dnnl_memory_desc_t aSrc = md(src, dnnl_format_tag_any);
        dnnl_memory_desc_t aDst = md(dst, dnnl_format_tag_any);
        dnnl_memory_desc_t aW = md(wts, dnnl_format_tag_any);
        dnnl_convolution_desc_t fd = new dnnl_convolution_desc_t();
        check(dnnl_convolution_forward_desc_init(fd, dnnl_forward_training, dnnl_convolution_direct, aSrc, aW,
                p.uBias, aDst, st, pl, pr), "forward descriptor");
        dnnl_primitive_desc fpd = pd(fd, null);
        dnnl_convolution_desc_t bdd = new dnnl_convolution_desc_t();
        check(dnnl_convolution_backward_data_desc_init(bdd, dnnl_convolution_direct, aSrc, aW, aDst, st, pl, pr),
                "backward-data descriptor");
        dnnl_primitive_desc bdpd = pd(bdd, fpd);
        dnnl_convolution_desc_t bwd = new dnnl_convolution_desc_t();
        check(dnnl_convolution_backward_weights_desc_init(bwd, dnnl_convolution_direct, aSrc, aW, null, aDst, st, pl, pr),
                "backward-weights descriptor");
        dnnl_primitive_desc bwpd = pd(bwd, fpd);
        p.descs = new dnnl_primitive_desc[] {fpd, bdpd, bwpd};
        p.fwd = primitive(fpd);
        p.bwdData = primitive(bdpd);
        p.bwdWeights = primitive(bwpd);
        p.fSrc = query(fpd, dnnl_query_src_md);
        p.fW = query(fpd, dnnl_query_weights_md);
        p.fDst = query(fpd, dnnl_query_dst_md);
        p.bdDy = query(bdpd, dnnl_query_diff_dst_md);
        p.bdW = query(bdpd, dnnl_query_weights_md);
        p.bdDx = query(bdpd, dnnl_query_diff_src_md);
        p.bwSrc = query(bwpd, dnnl_query_src_md);
        p.bwDy = query(bwpd, dnnl_query_diff_dst_md);
        p.bwDw = query(bwpd, dnnl_query_diff_weights_md);
        PLANS.put(key, p);
        return p;
    }

    private static dnnl_primitive reorder(Plan p, dnnl_memory_desc_t from, dnnl_memory_desc_t to, int id) {
        return p.reorders.computeIfAbsent((long) id, i -> {
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(dnnl_reorder_primitive_desc_create(pp, from, OneDnn.engine(), to, OneDnn.engine(), null), "reorder descriptor");
            return primitive(new dnnl_primitive_desc(pp.get(0)));
        });
    }

    private static final int[] FROM_TO = {DNNL_ARG_FROM, DNNL_ARG_TO};

    /** Reorder ids of a blocked user array are offset by this from the NCHW ones. */
    private static final int BLOCKED_ID = 100;

    /** The user descriptor of activation {@code a}: {@code plain}, or {@code blocked} when {@code a} is blocked. */
    private static dnnl_memory_desc_t user(INDArray a, dnnl_memory_desc_t plain, dnnl_memory_desc_t blocked, String what) {
        if (!ChannelBlocks.is(a)) {
            return plain;
        }
        if (blocked == null) {
            throw new IllegalArgumentException("oneDNN convolution: " + what + " " + dev.nfnets.layers.Shapes.str(a.shape())
                    + " is blocked but its channels are not a multiple of " + ChannelBlocks.BLOCK);
        }
        return blocked;
    }

    private static int id(INDArray a, int id) {
        return ChannelBlocks.is(a) ? id + BLOCKED_ID : id;
    }

    /** {@code user} in layout {@code target}: the user array itself when the layouts agree, else a reordered copy. */
    private static dnnl_memory into(Plan p, dnnl_memory_desc_t user, INDArray a, dnnl_memory_desc_t target, int id) {
        dnnl_memory u = memory(user, a);
        if (same(user, target)) {
            return u;
        }
        dnnl_memory t = memory(target, scratch(target));
        exec(reorder(p, user, target, id), FROM_TO, u, t);
        return t;
    }

    /** Runs {@code produce} into layout {@code chosen}, reordering into the user array when the layouts differ. */
    private static void out(Plan p, dnnl_memory_desc_t chosen, dnnl_memory_desc_t user, INDArray a, int id,
                            java.util.function.Consumer<dnnl_memory> produce) {
        dnnl_memory u = memory(user, a);
        if (same(chosen, user)) {
            produce.accept(u);
            return;
        }
        dnnl_memory t = memory(chosen, scratch(chosen));
        produce.accept(t);
        exec(reorder(p, chosen, user, id), FROM_TO, t, u);
    }

    static synchronized void forward(INDArray x, INDArray kernel, INDArray bias, INDArray y, int k, int stride, Padding padding,
                        int groups) {
        long[] xs = ChannelBlocks.logicalShape(x);
        long[] ys = ChannelBlocks.logicalShape(y);
        Plan p = plan(xs[0], xs[1], xs[2], xs[3], ys[1], ys[2], ys[3], k, stride,
                padding.pads(xs[2], k, stride), padding.pads(xs[3], k, stride), groups, bias != null);
        call(() -> forward(p, x, kernel, bias, y));
    }

    private static void forward(Plan p, INDArray x, INDArray kernel, INDArray bias, INDArray y) {
        dnnl_memory src = into(p, user(x, p.uSrc, p.uSrcBlocked, "input"), x, p.fSrc, id(x, 1));
        dnnl_memory wts = into(p, p.uW, kernel, p.fW, 2);
        out(p, p.fDst, user(y, p.uDst, p.uDstBlocked, "output"), y, id(y, 3), dst -> {
            if (bias == null) {
                exec(p.fwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, src, wts, dst);
            } else {
                exec(p.fwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST}, src, wts,
                        memory(p.uBias, bias), dst);
            }
        });
    }

    /**
     * Backward pass; {@code hasBias} says whether the layer's forward pass had a bias, so that both directions use
     * one plan (the bias gradient is the caller's).
     */
    static synchronized void backward(INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dk, int k, int stride,
                         Padding padding, int groups, boolean hasBias) {
        long[] xs = ChannelBlocks.logicalShape(x);
        long[] gs = ChannelBlocks.logicalShape(gradOut);
        Plan p = plan(xs[0], xs[1], xs[2], xs[3], gs[1], gs[2], gs[3], k,
                stride, padding.pads(xs[2], k, stride), padding.pads(xs[3], k, stride), groups, hasBias);
        call(() -> backward(p, x, kernel, gradOut, dx, dk));
    }

    private static void backward(Plan p, INDArray x, INDArray kernel, INDArray gradOut, INDArray dx, INDArray dk) {
        dnnl_memory_desc_t uDy = user(gradOut, p.uDst, p.uDstBlocked, "output gradient");
        dnnl_memory dyData = into(p, uDy, gradOut, p.bdDy, id(gradOut, 4));
        dnnl_memory wts = into(p, p.uW, kernel, p.bdW, 5);
        out(p, p.bdDx, user(dx, p.uSrc, p.uSrcBlocked, "input gradient"), dx, id(dx, 6), dsrc ->
                exec(p.bwdData, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC}, dyData, wts, dsrc));
        dnnl_memory src = into(p, user(x, p.uSrc, p.uSrcBlocked, "input"), x, p.bwSrc, id(x, 7));
        dnnl_memory dyWeights = same(p.bdDy, p.bwDy) ? dyData : into(p, uDy, gradOut, p.bwDy, id(gradOut, 8));
        out(p, p.bwDw, p.uW, dk, 9, dw ->
                exec(p.bwdWeights, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}, src, dyWeights, dw));
    }
}
