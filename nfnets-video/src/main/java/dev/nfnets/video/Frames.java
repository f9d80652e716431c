package dev.nfnets.video;

import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;

/** Conversions between JavaCV frames (FFmpeg's packed BGR24) and Java images. */
public final class Frames {
    private Frames() {
    }

    /**
     * Copies a packed 8-bit BGR frame (what FFmpeg's grabber delivers) into a new {@link BufferedImage#TYPE_INT_RGB}
     * image, swapping the channels to RGB; 1-channel (grey) frames are replicated. The frame is not retained.
     *
     * @throws IllegalArgumentException for frames that are not 8-bit with 1 or 3 channels
     */
    public static BufferedImage toRgbImage(Frame frame) {
        if (frame == null || frame.image == null || frame.image.length == 0) {
            throw new IllegalArgumentException("frame holds no image");
        }
        int w = frame.imageWidth;
        int h = frame.imageHeight;
        int ch = frame.imageChannels;
        if (frame.imageDepth != Frame.DEPTH_UBYTE || (ch != 3 && ch != 1)) {
            throw new IllegalArgumentException("expected an 8-bit BGR or grey frame, got depth " + frame.imageDepth
                    + " with " + ch + " channels");
        }
        ByteBuffer buf = (ByteBuffer) frame.image[0];
        int stride = frame.imageStride;   // in bytes for 8-bit frames
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            int base = y * stride;
            for (int x = 0; x < w; x++) {
                int r;
                int g;
                int b;
                if (ch == 3) {
                    int o = base + 3 * x;
                    b = buf.get(o) & 0xff;
                    g = buf.get(o + 1) & 0xff;
                    r = buf.get(o + 2) & 0xff;
                } else {
                    r = g = b = buf.get(base + x) & 0xff;
                }
                row[x] = (r << 16) | (g << 8) | b;
            }
            out.setRGB(0, y, w, 1, row, 0, w);
        }
        return out;
    }

    /** A BGR24 frame of {@code image} for FFmpeg's recorder; a fresh converter per call, so any thread may call it. */
    public static Frame toFrame(BufferedImage image) {
        BufferedImage bgr = image;
        if (image.getType() != BufferedImage.TYPE_3BYTE_BGR) {
            bgr = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
            bgr.getGraphics().drawImage(image, 0, 0, null);
        }
        try (Java2DFrameConverter c = new Java2DFrameConverter()) {
            return c.convert(bgr).clone();
        }
    }
}
