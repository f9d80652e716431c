package dev.nfnets.video;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Where frames come from: a camera, a video file, a network stream or a synthetic source. One thread calls
 * {@link #grab()}; {@link #close()} releases the device and may be called from any thread, also while a grab is
 * under way.
 */
public interface FrameSource extends AutoCloseable {
    /**
     * The next frame as an RGB image that the caller owns, or null at the end of the stream.
     *
     * @throws IOException when the source fails (a camera that was unplugged, a broken stream); the loop treats it as
     *                     the end of the stream and logs it
     */
    BufferedImage grab() throws IOException;

    /** Frames per second the source declares, or 0 when unknown. */
    double frameRate();

    /** For messages and logs: e.g. {@code "camera /dev/video0"}, {@code "file clip.mp4"}. */
    String describe();

    /** Releases the device or file; idempotent. */
    @Override
    void close();
}
