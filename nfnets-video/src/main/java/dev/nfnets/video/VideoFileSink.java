package dev.nfnets.video;

import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.FrameRecorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Writes the annotated frames to a video file with FFmpeg's recorder: MPEG-4 Part 2 video (this FFmpeg build is LGPL,
 * without x264) in the container the file name says ({@code .mp4}, {@code .mkv}, {@code .avi}, {@code .mov}). The
 * video is written to a temporary file beside the target and moved over it when the stream ends, so the target is
 * either the previous file or the complete new one.
 */
public final class VideoFileSink implements StreamSink {
    private static final Logger log = LoggerFactory.getLogger(VideoFileSink.class);

    private final Path target;
    private final Path temp;
    private final String format;
    private double frameRate = 30;
    private FFmpegFrameRecorder recorder;
    private long frames;

    /**
     * @param target the video file; its folder must exist
     * @throws IllegalArgumentException for an extension other than mp4, mkv, avi or mov
     */
    public VideoFileSink(Path target) {
        this.target = target.toAbsolutePath();
        String name = target.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        format = switch (ext) {
            case "mp4", "mov" -> ext;
            case "mkv" -> "matroska";
            case "avi" -> "avi";
            default -> throw new IllegalArgumentException("--output " + target
                    + ": use a .mp4, .mkv, .avi or .mov file (MPEG-4 video)");
        };
        Path dir = this.target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--output " + target + ": folder " + dir + " does not exist");
        }
        temp = dir.resolve("." + target.getFileName() + ".partial");
    }

    @Override
    public void start(double rate) {
        if (rate > 0) {
            frameRate = rate;
        }
    }

    @Override
    public void frame(BufferedImage annotated, long index) throws IOException {
        if (recorder == null) {
            recorder = new FFmpegFrameRecorder(temp.toFile(), annotated.getWidth(), annotated.getHeight(), 0);
            recorder.setFormat(format);
            recorder.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
            recorder.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            recorder.setFrameRate(frameRate);
            recorder.setVideoQuality(2);   // qscale: near-lossless for MPEG-4 Part 2
            try {
                recorder.start();
            } catch (FrameRecorder.Exception e) {
                throw new IOException("cannot write video " + target + ": " + e.getMessage(), e);
            }
        }
        try {
            recorder.record(Frames.toFrame(annotated), avutil.AV_PIX_FMT_BGR24);
            frames++;
        } catch (FrameRecorder.Exception e) {
            throw new IOException("writing frame " + index + " to " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        if (recorder == null) {
            log.warn("no frames were captured; {} was not written", target);
            return;
        }
        try {
            recorder.stop();
            recorder.release();
        } catch (FrameRecorder.Exception e) {
            Files.deleteIfExists(temp);
            throw new IOException("finishing video " + target + ": " + e.getMessage(), e);
        }
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log.info("wrote {} annotated frames to {}", frames, target);
    }
}
