package dev.nfnets.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.train.cli.NFNetsCli;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Headless: a video written here with FFmpeg's recorder, FFmpeg's testsrc, and a missing camera. */
class StreamTest {
    static final int FRAMES = 8;
    static final int W = 96;
    static final int H = 80;
    static final List<String> NAMES = List.of("red", "green", "blue", "stripes");

    @TempDir
    static Path dir;
    static Path video;
    static Path run;

    static NFNetConfig tiny() {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").inChannels(3).numClasses(4)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).trainSize(32).testSize(32).build();
    }

    /** Frames with known content: solid colours and stripes with a moving square, scaled-up 8x8 "images". */
    static BufferedImage frame(int i) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        Color[] colours = {new Color(220, 30, 30), new Color(30, 200, 40), new Color(30, 40, 220)};
        if (i % 4 < 3) {
            g.setColor(colours[i % 4]);
            g.fillRect(0, 0, W, H);
        } else {
            for (int x = 0; x < W; x += 12) {
                g.setColor(x % 24 == 0 ? Color.WHITE : Color.BLACK);
                g.fillRect(x, 0, 12, H);
            }
        }
        g.setColor(Color.YELLOW);
        g.fillRect(4 * i, 20, 16, 16);
        g.dispose();
        return img;
    }

    @BeforeAll
    static void writeVideoAndModel() throws IOException {
        video = dir.resolve("clip.mp4");
        try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(video.toFile(), W, H, 0);
             Java2DFrameConverter conv = new Java2DFrameConverter()) {
            rec.setFormat("mp4");
            rec.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
            rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            rec.setFrameRate(10);
            rec.start();
            for (int i = 0; i < FRAMES; i++) {
                BufferedImage bgr = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
                bgr.getGraphics().drawImage(frame(i), 0, 0, null);
                rec.record(conv.convert(bgr), avutil.AV_PIX_FMT_BGR24);
            }
            rec.stop();
        }
        Nd4j.getRandom().setSeed(18);
        NFNet net = new NFNet(tiny());
        net.namedParameters().values().forEach(p -> p.value().addi(Nd4j.randn(DataType.FLOAT, p.shape()).muli(0.3)));
        run = Files.createDirectories(dir.resolve("run"));
        Weights.save(net, run.resolve("weights.safetensors"), WeightFormat.NATIVE);
        Files.write(run.resolve("classes.txt"), NAMES);
    }

    /** The test video's frames as FFmpeg decodes them, as RGB images. */
    static List<BufferedImage> decode(Path file) throws IOException {
        FFmpegSource.registerDevices();
        List<BufferedImage> out = new ArrayList<>();
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.setPixelFormat(avutil.AV_PIX_FMT_BGR24);
            g.start();
            for (Frame f = g.grabImage(); f != null; f = g.grabImage()) {
                out.add(Frames.toRgbImage(f));
            }
            g.stop();
        }
        return out;
    }

    @Test
    void streamingAFileGivesTheSamePredictionsAsClassifyOnItsDecodedFrames() throws Exception {
        Path annotated = dir.resolve("annotated.mp4");
        Path jsonl = dir.resolve("predictions.jsonl");
        int rc = NFNetsCli.execute("stream", "--source", video.toString(), "--weights", run.toString(), "--top", "3",
                "--output", annotated.toString(), "--jsonl", jsonl.toString(), "--no-window");
        assertEquals(0, rc);

        ImageClassifier classifier = StreamCommand.classifier(run, null, null);
        assertEquals(NAMES, classifier.classNames());
        List<BufferedImage> decoded = decode(video);
        assertEquals(FRAMES, decoded.size());
        List<String> lines = Files.readAllLines(jsonl);
        assertEquals(FRAMES, lines.size(), "a file is classified frame by frame");
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < FRAMES; i++) {
            JsonNode o = json.readTree(lines.get(i));
            assertEquals(i, o.get("frame").asInt());
            List<Prediction> expected = classifier.classify(decoded.get(i), 3);
            assertEquals(3, o.get("top").size());
            for (int k = 0; k < 3; k++) {
                JsonNode t = o.get("top").get(k);
                assertEquals(expected.get(k).classIndex(), t.get("class").asInt(), "frame " + i + " rank " + k);
                assertEquals(expected.get(k).label(), t.get("label").asText());
                assertEquals(expected.get(k).probability(), t.get("p").asDouble(), 1e-12);
            }
        }
        List<BufferedImage> out = decode(annotated);
        assertEquals(FRAMES, out.size());
        assertEquals(W, out.get(0).getWidth());
        assertEquals(H, out.get(0).getHeight());
        // the annotation is drawn: the top-left corner differs from the source frame there
        assertTrue(differs(out.get(5), decoded.get(5), 0, 0, W / 2, 12), "no annotation drawn");
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".partial")), "temporary files left");
        }
    }

    static boolean differs(BufferedImage a, BufferedImage b, int x0, int y0, int w, int h) {
        long sum = 0;
        for (int y = y0; y < y0 + h; y++) {
            for (int x = x0; x < x0 + w; x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                sum += Math.abs(((p >> 16) & 0xff) - ((q >> 16) & 0xff)) + Math.abs((p & 0xff) - (q & 0xff));
            }
        }
        return sum / (double) (w * h) > 20;
    }

    @Test
    void testsrcRunsForNFramesAndDropsStaleFramesForASlowModel() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        StreamClassifier.FrameClassifier slow = img -> {
            calls.incrementAndGet();
            Thread.sleep(40);
            return List.of(new Prediction(0, "pattern", 1.0));
        };
        List<Long> shown = new ArrayList<>();
        StreamSink sink = new StreamSink() {
            @Override
            public void frame(BufferedImage annotated, long index) {
                assertEquals(160, annotated.getWidth());
                shown.add(index);
            }
        };
        StreamClassifier.Stats s;
        try (FFmpegSource src = FFmpegSource.open("testsrc:160x120")) {
            assertEquals(FFmpegSource.Kind.TESTSRC, src.kind());
            s = new StreamClassifier(src, slow, List.of(sink), StreamClassifier.Options.live(30)).run();
        }
        assertEquals(30, s.captured());
        assertEquals("max frames", s.endReason());
        assertEquals(30, shown.size(), "every captured frame is shown");
        assertEquals(calls.get(), s.classified());
        assertTrue(s.dropped() > 0, s.toString());
        assertEquals(30, s.classified() + s.dropped(), s.toString());
    }

    @Test
    void bgrFramesBecomeRgbImages() {
        BufferedImage red = new BufferedImage(4, 2, BufferedImage.TYPE_3BYTE_BGR);
        red.getGraphics().setColor(Color.RED);
        Graphics2D g = red.createGraphics();
        g.setColor(new Color(250, 10, 5));
        g.fillRect(0, 0, 4, 2);
        g.dispose();
        Frame f;
        try (Java2DFrameConverter c = new Java2DFrameConverter()) {
            f = c.convert(red);
        }
        int p = Frames.toRgbImage(f).getRGB(1, 1);
        assertEquals(250, (p >> 16) & 0xff);
        assertEquals(10, (p >> 8) & 0xff);
        assertEquals(5, p & 0xff);
    }

    @Test
    void aMissingCameraIsOneClearErrorNamingIt() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FFmpegSource.open("/dev/video97"));
        assertTrue(e.getMessage().contains("/dev/video97") && e.getMessage().contains("no camera"), e.getMessage());
        NoSuchFileException byIndex = assertThrows(NoSuchFileException.class, () -> FFmpegSource.open("96"));
        assertTrue(byIndex.getMessage().contains("/dev/video96"), byIndex.getMessage());
        NoSuchFileException file = assertThrows(NoSuchFileException.class, () -> FFmpegSource.open(dir.resolve("nope.mp4").toString()));
        assertTrue(file.getMessage().contains("nope.mp4"), file.getMessage());
        assertEquals(1, NFNetsCli.execute("stream", "--source", "/dev/video97", "--weights", run.toString(), "--no-window"));
    }

    @Test
    void aFileThatIsNotAVideoIsNamed() throws IOException {
        Path junk = Files.write(dir.resolve("junk.mp4"), new byte[] {1, 2, 3, 4});
        IOException e = assertThrows(IOException.class, () -> FFmpegSource.open(junk.toString()));
        assertTrue(e.getMessage().contains("junk.mp4"), e.getMessage());
    }
}
