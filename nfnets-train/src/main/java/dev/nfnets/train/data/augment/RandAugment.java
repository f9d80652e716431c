package dev.nfnets.train.data.augment;

import dev.nfnets.train.data.Normalization;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * RandAugment (Cubuk et al. 2020) as the NFNet reference runs it ({@code autoaugment.py}, used with
 * {@code augment_before_mix=False}): the image is taken to 0..255, clipped and truncated to integers;
 * then {@code layers} times one of the 16 {@link Op}s is chosen uniformly and always applied with the fixed
 * magnitude {@code M} (on the 0..10 scale); the result is converted back to float and re-normalised.
 *
 * <p>Input and output are normalised float CHW images with 1 or 3 channels; {@link Normalization} maps them
 * to pixel values and back. Float error of that round trip is absorbed by adding 1e-3 before truncation, so
 * an image that came from integer pixels comes back to exactly those pixels.
 *
 * <p>Magnitude to argument ({@code m = M/10}): Rotate {@code 30m} degrees, ShearX/Y {@code 0.3m},
 * TranslateX/Y {@code m * translateConst} pixels (all three with a random sign); Posterize keeps
 * {@code int(4m)} bits; Solarize threshold {@code int(256m)}; SolarizeAdd adds {@code int(110m)} below 128;
 * Color/Contrast/Brightness/Sharpness blend factor {@code 1.8m + 0.1}; Cutout half-size
 * {@code int(m * cutoutConst)}. Geometric ops use nearest-neighbour sampling (TF projective transform: pixel
 * centres on integers, rounding half away from zero) and fill uncovered pixels with 128, as does Cutout.
 * The reference constants ({@code translateConst = 100}, {@code cutoutConst = 40}) are meant for 224-px
 * images; {@link #scaledTo(int, double, Normalization, int)} scales them to another image size.
 *
 * <p>Differences from the reference: on 1-channel images Color is the identity and the grey image is the
 * image itself (the reference expects RGB). Contrast blends with the true mean grey level; the TF code it
 * derives from computes "mean" as pixel count / 256 (a known quirk), which {@link #withReferenceContrast()}
 * reproduces.
 *
 * <p>Randomness per layer, in order: op index, then (op-dependent) sign or Cutout centre (row, column).
 */
public final class RandAugment implements Augmentation {
    /** The 16 ops, in the reference's order. */
    public enum Op {
        AUTO_CONTRAST, EQUALIZE, INVERT, ROTATE, POSTERIZE, SOLARIZE, COLOR, CONTRAST, BRIGHTNESS, SHARPNESS,
        SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y, CUTOUT, SOLARIZE_ADD
    }

    private static final List<Op> OPS = List.of(Op.values());
    /** Fill value of geometric ops and Cutout (reference {@code replace_value}). */
    public static final int FILL = 128;
    private static final float TRUNC_EPS = 1e-3f;

    private final int layers;
    private final double magnitude;
    private final Normalization normalization;
    private final double translateConst;
    private final double cutoutConst;
    private final boolean referenceContrast;

    /** Reference constants (translate 100 px, cutout 40 px: tuned for 224-px images). */
    public RandAugment(int layers, double magnitude, Normalization normalization) {
        this(layers, magnitude, normalization, 100, 40, false);
    }

    /**
     * @param layers         ops applied per image (reference 4)
     * @param magnitude      M on the 0..10 scale (larger values extrapolate)
     * @param normalization  how the input floats map to 0..255 pixels
     * @param translateConst translation at M = 10, in pixels
     * @param cutoutConst    Cutout half-size at M = 10, in pixels
     */
    public RandAugment(int layers, double magnitude, Normalization normalization, double translateConst,
                       double cutoutConst) {
        this(layers, magnitude, normalization, translateConst, cutoutConst, false);
    }

    private RandAugment(int layers, double magnitude, Normalization normalization, double translateConst,
                        double cutoutConst, boolean referenceContrast) {
        if (layers < 0) {
            throw new IllegalArgumentException("layers must be >= 0, got " + layers);
        }
        if (!(magnitude >= 0) || Double.isInfinite(magnitude)) {
            throw new IllegalArgumentException("magnitude must be >= 0, got " + magnitude);
        }
        this.layers = layers;
        this.magnitude = magnitude;
        this.normalization = Objects.requireNonNull(normalization, "normalization");
        this.translateConst = translateConst;
        this.cutoutConst = cutoutConst;
        this.referenceContrast = referenceContrast;
    }

    /** Reference ops with translate/cutout constants scaled from 224 px to {@code imageSize}. */
    public static RandAugment scaledTo(int layers, double magnitude, Normalization normalization, int imageSize) {
        double s = imageSize / 224.0;
        return new RandAugment(layers, magnitude, normalization, 100 * s, 40 * s);
    }

    /** A copy whose Contrast uses the reference's "pixel count / 256" mean. */
    public RandAugment withReferenceContrast() {
        return new RandAugment(layers, magnitude, normalization, translateConst, cutoutConst, true);
    }

    public int layers() {
        return layers;
    }

    public double magnitude() {
        return magnitude;
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom rng) {
        int c = image.channels();
        int h = image.height();
        int w = image.width();
        checkChannels(c);
        int plane = h * w;
        float[] d = image.data();
        int[] px = new int[d.length];
        for (int ch = 0; ch < c; ch++) {
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                px[i] = toPixel(normalization.denormalize(ch, d[i]));
            }
        }
        for (int l = 0; l < layers; l++) {
            Op op = OPS.get(rng.nextInt(OPS.size()));
            px = applyOp(op, px, c, h, w, rng);
        }
        for (int ch = 0; ch < c; ch++) {
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                d[i] = normalization.normalize(ch, px[i]);
            }
        }
        return image;
    }

    private void checkChannels(int c) {
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("RandAugment works on 1- or 3-channel images, got " + c);
        }
    }

    /** Clip to [0,255] and truncate, absorbing float round-trip error. */
    static int toPixel(float v) {
        if (!(v > 0f)) {
            return 0;
        }
        return Math.min(255, (int) (v + TRUNC_EPS));
    }

    /**
     * Applies one op with this instance's magnitude to a CHW image of integer pixels 0..255; returns the
     * result (possibly the same array).
     */
    public int[] applyOp(Op op, int[] px, int c, int h, int w, SplittableRandom rng) {
        checkChannels(c);
        double m = magnitude / 10.0;
        float factor = (float) (m * 1.8 + 0.1);
        switch (op) {
            case AUTO_CONTRAST:
                return autoContrast(px, c, h * w);
            case EQUALIZE:
                return equalize(px, c, h * w);
            case INVERT:
                for (int i = 0; i < px.length; i++) {
                    px[i] = 255 - px[i];
                }
                return px;
            case ROTATE: {
                double deg = signed(m * 30.0, rng);
                float rad = (float) (deg * Math.PI / 180.0);
                float cos = (float) Math.cos(rad);
                float sin = (float) Math.sin(rad);
                float xOff = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2f;
                float yOff = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2f;
                return transform(px, c, h, w, cos, -sin, xOff, sin, cos, yOff);
            }
            case POSTERIZE: {
                int shift = 8 - (int) (m * 4);
                shift = Math.max(0, Math.min(8, shift));
                for (int i = 0; i < px.length; i++) {
                    px[i] = (px[i] >> shift) << shift;
                }
                return px;
            }
            case SOLARIZE: {
                int threshold = (int) (m * 256);
                for (int i = 0; i < px.length; i++) {
                    if (px[i] >= threshold) {
                        px[i] = 255 - px[i];
                    }
                }
                return px;
            }
            case SOLARIZE_ADD: {
                int add = (int) (m * 110);
                for (int i = 0; i < px.length; i++) {
                    if (px[i] < 128) {
                        px[i] = Math.max(0, Math.min(255, px[i] + add));
                    }
                }
                return px;
            }
            case COLOR: {
                if (c == 1) {
                    return px;
                }
                int plane = h * w;
                int[] gray = grayscale(px, c, plane);
                int[] degenerate = new int[px.length];
                for (int ch = 0; ch < c; ch++) {
                    System.arraycopy(gray, 0, degenerate, ch * plane, plane);
                }
                return blend(degenerate, px, factor);
            }
            case CONTRAST: {
                int plane = h * w;
                int[] gray = grayscale(px, c, plane);
                float mean;
                if (referenceContrast) {
                    mean = plane / 256f;
                } else {
                    long sum = 0;
                    for (int g : gray) {
                        sum += g;
                    }
                    mean = (float) sum / plane;
                }
                int level = (int) Math.max(0f, Math.min(255f, mean));
                int[] degenerate = new int[px.length];
                java.util.Arrays.fill(degenerate, level);
                return blend(degenerate, px, factor);
            }
            case BRIGHTNESS:
                return blend(new int[px.length], px, factor);
            case SHARPNESS:
                return blend(smooth(px, c, h, w), px, factor);
            case SHEAR_X: {
                float level = (float) signed(m * 0.3, rng);
                return transform(px, c, h, w, 1f, level, 0f, 0f, 1f, 0f);
            }
            case SHEAR_Y: {
                float level = (float) signed(m * 0.3, rng);
                return transform(px, c, h, w, 1f, 0f, 0f, level, 1f, 0f);
            }
            case TRANSLATE_X: {
                float pixels = (float) signed(m * translateConst, rng);
                return transform(px, c, h, w, 1f, 0f, pixels, 0f, 1f, 0f);
            }
            case TRANSLATE_Y: {
                float pixels = (float) signed(m * translateConst, rng);
                return transform(px, c, h, w, 1f, 0f, 0f, 0f, 1f, pixels);
            }
            case CUTOUT: {
                int pad = (int) (m * cutoutConst);
                int cy = rng.nextInt(h);
                int cx = rng.nextInt(w);
                int y0 = Math.max(0, cy - pad);
                int y1 = Math.min(h, cy + pad);
                int x0 = Math.max(0, cx - pad);
                int x1 = Math.min(w, cx + pad);
                for (int ch = 0; ch < c; ch++) {
                    for (int y = y0; y < y1; y++) {
                        int o = (ch * h + y) * w;
                        java.util.Arrays.fill(px, o + x0, o + Math.max(x0, x1), FILL);
                    }
                }
                return px;
            }
            default:
                throw new IllegalArgumentException("unknown op " + op);
        }
    }

    private static double signed(double v, SplittableRandom rng) {
        return rng.nextBoolean() ? -v : v;
    }

    /**
     * Output pixel {@code (x, y)} takes input {@code (round(a0 x + a1 y + a2), round(b0 x + b1 y + b2))}, or
     * {@link #FILL} when that is outside the image (TF {@code ImageProjectiveTransform}, NEAREST).
     */
    private static int[] transform(int[] px, int c, int h, int w, float a0, float a1, float a2, float b0,
                                   float b1, float b2) {
        int[] out = new int[px.length];
        int plane = h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = roundHalfAway(a0 * x + a1 * y + a2);
                int sy = roundHalfAway(b0 * x + b1 * y + b2);
                boolean inside = sx >= 0 && sx < w && sy >= 0 && sy < h;
                int o = y * w + x;
                int s = sy * w + sx;
                for (int ch = 0; ch < c; ch++) {
                    out[ch * plane + o] = inside ? px[ch * plane + s] : FILL;
                }
            }
        }
        return out;
    }

    private static int roundHalfAway(float v) {
        if (Float.isNaN(v) || Math.abs(v) > 1e9f) {
            return Integer.MIN_VALUE / 2;
        }
        return v >= 0 ? (int) Math.floor(v + 0.5f) : -(int) Math.floor(-v + 0.5f);
    }

    /** Per channel: stretch [min, max] to [0, 255] (unchanged when the channel is constant). */
    private static int[] autoContrast(int[] px, int c, int plane) {
        for (int ch = 0; ch < c; ch++) {
            int lo = 255;
            int hi = 0;
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                lo = Math.min(lo, px[i]);
                hi = Math.max(hi, px[i]);
            }
            if (hi <= lo) {
                continue;
            }
            float scale = 255f / (hi - lo);
            float offset = -lo * scale;
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                float v = px[i] * scale + offset;
                px[i] = (int) Math.max(0f, Math.min(255f, v));
            }
        }
        return px;
    }

    /** Per-channel histogram equalisation, PIL {@code ImageOps.equalize} style. */
    private static int[] equalize(int[] px, int c, int plane) {
        int[] hist = new int[256];
        int[] lut = new int[256];
        for (int ch = 0; ch < c; ch++) {
            java.util.Arrays.fill(hist, 0);
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                hist[px[i]]++;
            }
            int last = 255;
            while (last > 0 && hist[last] == 0) {
                last--;
            }
            int step = (plane - hist[last]) / 255;
            if (step == 0) {
                continue;
            }
            // lut[v] = (cumsum up to v-1 + step/2) / step, lut[0] = 0
            int cum = 0;
            for (int v = 0; v < 256; v++) {
                lut[v] = v == 0 ? 0 : Math.min(255, (cum + step / 2) / step);
                cum += hist[v];
            }
            for (int i = ch * plane, e = i + plane; i < e; i++) {
                px[i] = lut[px[i]];
            }
        }
        return px;
    }

    /**
     * Grey level per pixel: the channel itself for 1 channel; for RGB TF's {@code rgb_to_grayscale} on uint8
     * (weights 0.2989, 0.5870, 0.1140 on x/255, back to uint8 by truncating {@code g * 255.5}).
     */
    private static int[] grayscale(int[] px, int c, int plane) {
        int[] g = new int[plane];
        if (c == 1) {
            System.arraycopy(px, 0, g, 0, plane);
            return g;
        }
        float inv = 1f / 255f;
        for (int i = 0; i < plane; i++) {
            float v = 0.2989f * (px[i] * inv) + 0.5870f * (px[plane + i] * inv) + 0.1140f * (px[2 * plane + i] * inv);
            g[i] = Math.max(0, Math.min(255, (int) (v * 255.5f)));
        }
        return g;
    }

    /**
     * The reference's Sharpness degenerate: 3x3 smoothing kernel [[1,1,1],[1,5,1],[1,1,1]]/13 on the interior
     * (clipped, truncated), border pixels unchanged.
     */
    private static int[] smooth(int[] px, int c, int h, int w) {
        int[] out = px.clone();
        if (h < 3 || w < 3) {
            return out;
        }
        for (int ch = 0; ch < c; ch++) {
            int b = ch * h * w;
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    int o = b + y * w + x;
                    float s = 0f;
                    for (int dy = -1; dy <= 1; dy++) {
                        int r = o + dy * w;
                        s += px[r - 1] + px[r] + px[r + 1];
                    }
                    s += 4f * px[o];
                    float v = s / 13f;
                    out[o] = (int) Math.max(0f, Math.min(255f, v));
                }
            }
        }
        return out;
    }

    /**
     * The reference {@code blend}: {@code a + f * (b - a)}; exactly {@code a} at f = 0 and {@code b} at f = 1;
     * truncated (and clipped to [0,255] when f is outside (0,1)). Writes into {@code b}.
     */
    private static int[] blend(int[] a, int[] b, float f) {
        if (f == 0f) {
            return a;
        }
        if (f == 1f) {
            return b;
        }
        for (int i = 0; i < b.length; i++) {
            float t = a[i] + f * (float) (b[i] - a[i]);
            b[i] = (int) Math.max(0f, Math.min(255f, t));
        }
        return b;
    }

    @Override
    public String toString() {
        return "RandAugment(layers=" + layers + ", magnitude=" + magnitude + ", translate=" + translateConst
                + ", cutout=" + cutoutConst + (referenceContrast ? ", reference contrast" : "") + ")";
    }
}
