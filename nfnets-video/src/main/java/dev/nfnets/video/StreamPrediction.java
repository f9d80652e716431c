package dev.nfnets.video;

import dev.nfnets.core.inference.Prediction;

import java.util.List;

/**
 * The classification of one frame.
 *
 * @param frame         the frame's index in the source (0-based, counting dropped frames too)
 * @param timeSeconds   seconds since the stream started when the frame was captured
 * @param inferenceMs   how long preprocessing and the forward pass took
 * @param ratePerSecond the smoothed inference rate (classified frames per second) after this frame
 * @param top           the most probable classes, best first
 */
public record StreamPrediction(long frame, double timeSeconds, double inferenceMs, double ratePerSecond,
                               List<Prediction> top) {
}
