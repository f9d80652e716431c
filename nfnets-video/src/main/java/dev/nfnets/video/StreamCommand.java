package dev.nfnets.video;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.train.cli.Classifiers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code nfnets stream}: classify a camera, video file, URL or FFmpeg's test pattern live. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Classify a live video stream: a camera (0, /dev/video0), a video file, a URL or FFmpeg's testsrc.",
                "Capture and inference run on separate threads. For cameras, streams and testsrc the newest frame wins",
                "and stale frames are dropped (and counted); for files every frame is classified.",
                "Each frame gets the top-k classes and the smoothed inference rate drawn on it.",
                "q or Esc in the window, Ctrl-C, the end of the file or a lost camera end the stream and release the device."})
public final class StreamCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(StreamCommand.class);
    /** Written by {@code nfnets train} beside the weights: one class name per line. */

    @Option(names = "--source", required = true, description = "0 | /dev/video0 | FILE | URL | testsrc[:WxH]")
    String source;
    @Option(names = "--weights", required = true, description = "a weight file (DeepMind .npz or Haiku pickle, timm or native .safetensors) or a run folder of `nfnets train`")
    Path weights;
    @Option(names = "--model", description = "f0..f7, mnist or a config JSON (not needed for native weight files and run folders)")
    String model;
    @Option(names = "--size", description = "input size (default: the model's test size)")
    Integer size;
    @Option(names = "--top", defaultValue = "5", description = "classes drawn per frame (default: ${DEFAULT-VALUE})")
    int top;
    @Option(names = "--output", description = "write the annotated video here (.mp4, .mkv, .avi or .mov; MPEG-4 video)")
    Path output;
    @Option(names = "--jsonl", description = "write one JSON line of predictions per classified frame here")
    Path jsonl;
    @Option(names = "--no-window", description = "do not open a window (a window opens only where a display exists)")
    boolean noWindow;
    @Option(names = "--max-frames", defaultValue = "0", description = "stop after N captured frames (default: no limit)")
    long maxFrames;
    @Option(names = "--every-frame", description = "classify every frame even from a live source (default: only for files)")
    boolean everyFrame;
    @Option(names = "--drop-frames", description = "latest frame wins even for a file (as for a camera)")
    boolean dropFrames;

    @Override
    public Integer call() throws Exception {
        if (everyFrame && dropFrames) {
            throw new IllegalArgumentException("--every-frame and --drop-frames exclude each other");
        }
        if (maxFrames < 0) {
            throw new IllegalArgumentException("--max-frames must be >= 0, got " + maxFrames);
        }
        boolean window = !noWindow && dev.nfnets.layers.NFNetsOptions.Process.env("DISPLAY") != null;
        if (window) {
            System.setProperty("java.awt.headless", "false");   // the launcher defaults to headless
        }
        ImageClassifier classifier = classifier(weights, model, size);
        StreamClassifier.FrameClassifier fc = StreamClassifier.topK(classifier, top);
        List<StreamSink> sinks = new ArrayList<>();
        StreamClassifier[] loop = new StreamClassifier[1];
        try (FFmpegSource src = FFmpegSource.open(source)) {
            if (output != null) {
                sinks.add(new VideoFileSink(output));
            }
            if (jsonl != null) {
                sinks.add(new JsonlSink(jsonl));
            }
            if (window && WindowSink.available()) {
                sinks.add(new WindowSink("nfnets stream: " + src.describe(), () -> loop[0].stop()));
            } else if (!noWindow) {
                log.info("no display: streaming without a window");
            }
            boolean drop = dropFrames || (!everyFrame && src.kind() != FFmpegSource.Kind.FILE);
            loop[0] = new StreamClassifier(src, fc, sinks, new StreamClassifier.Options(maxFrames, drop));
            Thread hook = new Thread(() -> {
                loop[0].stop();
                try {
                    loop[0].awaitFinished(10_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "nfnets-stream-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            StreamClassifier.Stats stats;
            try {
                stats = loop[0].run();
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // the JVM is shutting down (Ctrl-C): the hook is running
                }
            }
            System.out.println(stats);
        }
        return 0;
    }

    /**
     * The classifier for {@code --weights}/{@code --model}/{@code --size}, loaded as {@code predict} and {@code serve}
     * load it ({@link Classifiers#load}): a run folder means its {@code weights.safetensors}; class names come with the
     * weights or from {@code classes.txt} beside them, else ImageNet names for 1000 classes.
     */
    static ImageClassifier classifier(Path weights, String model, Integer size) throws IOException {
        if (size != null && size < 8) {
            throw new IllegalArgumentException("--size must be at least 8, got " + size);
        }
        return Classifiers.load(weights, model, size, null);
    }
}
