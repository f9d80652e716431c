package dev.nfnets.video;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Receives what a {@link StreamClassifier} produces. {@link #frame} is called for every frame shown (each captured
 * frame, annotated with the latest predictions), always from one thread; {@link #prediction} for every classified
 * frame, from the inference thread. {@link #close()} is called once at the end, after both threads have finished.
 */
public interface StreamSink extends AutoCloseable {
    /** A captured frame with the latest predictions drawn on it. */
    default void frame(BufferedImage annotated, long index) throws IOException {
    }

    /** False when this sink ignores {@link #frame}: frames are then not annotated for it. */
    default boolean wantsFrames() {
        return true;
    }

    /** The predictions of one classified frame. */
    default void prediction(StreamPrediction p) throws IOException {
    }

    /** The source declared this frame rate (0 if unknown); called before the first frame. */
    default void start(double frameRate) throws IOException {
    }

    @Override
    default void close() throws IOException {
    }
}
