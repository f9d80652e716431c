package dev.nfnets.video;

import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
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
        ByteBuffer buf = ((ByteBuffer) frame.image[0]).duplicate();
        int stride = frame.imageStride;   // in bytes for 8-bit frames
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        byte[] row = new byte[w * ch];
        for (int y = 0; y < h; y++) {
            buf.position(y * stride);
            buf.get(row, 0, row.length);
            int o = y * w;
            if (ch == 3) {
                for (int x = 0, i = 0; x < w; x++, i += 3) {
                    // packed BGR in, RGB out
                    dst[o + x] = ((row[i + 2] & 0xff) << 16) | ((row[i + 1] & 0xff) << 8) | (row[i] & 0xff);
                }
            } else {
                for (int x = 0; x < w; x++) {
                    int v = row[x] & 0xff;
                    dst[o + x] = (v << 16) | (v << 8) | v;
                }
            }
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
