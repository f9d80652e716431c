package dev.nfnets.video;

import org.bytedeco.ffmpeg.global.avdevice;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A {@link FrameSource} on FFmpeg's grabber (JavaCV): video files, network streams (any URL FFmpeg reads), V4L2
 * cameras (a device path or an index) and FFmpeg's synthetic {@code testsrc2} pattern as a camera for headless runs.
 *
 * <pre>{@code
 * try (FrameSource src = FFmpegSource.open("0")) {          // /dev/video0
 *     BufferedImage rgb = src.grab();
 * }
 * FFmpegSource.open("clip.mp4");  FFmpegSource.open("rtsp://host/stream");  FFmpegSource.open("testsrc");
 * }</pre>
 */
public final class FFmpegSource implements FrameSource {
    private static final Logger log = LoggerFactory.getLogger(FFmpegSource.class);
    private static final Pattern INDEX = Pattern.compile("\\d{1,3}");
    private static final Pattern TESTSRC = Pattern.compile("testsrc(?::(\\d+)x(\\d+))?");
    private static volatile boolean devicesRegistered;

    /** What kind of input a source spec names. */
    public enum Kind { CAMERA, FILE, URL, TESTSRC }

    private final FFmpegFrameGrabber grabber;
    private final Kind kind;
    private final String description;
    private final Object lock = new Object();
    private boolean closed;

    private FFmpegSource(FFmpegFrameGrabber grabber, Kind kind, String description) {
        this.grabber = grabber;
        this.kind = kind;
        this.description = description;
    }

    /** The kind of input {@code spec} names; see {@link #open(String)}. */
    public static Kind kindOf(String spec) {
        if (INDEX.matcher(spec).matches() || spec.startsWith("/dev/")) {
            return Kind.CAMERA;
        }
        if (TESTSRC.matcher(spec).matches()) {
            return Kind.TESTSRC;
        }
        return spec.contains("://") ? Kind.URL : Kind.FILE;
    }

    /**
     * Opens and starts a source.
     *
     * @param spec {@code 0} (camera index, {@code /dev/video0}), a device path, {@code testsrc} or
     *             {@code testsrc:640x480}, a URL ({@code rtsp://...}, {@code http://...}) or a video file
     * @throws NoSuchFileException when a camera device or file does not exist (the message names it)
     * @throws IOException         when FFmpeg cannot open it (a busy camera, an unreadable file), naming it
     */
    public static FFmpegSource open(String spec) throws IOException {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--source is empty; give a camera (0, /dev/video0), a file, a URL or testsrc");
        }
        registerDevices();
        Kind kind = kindOf(spec);
        FFmpegFrameGrabber g;
        String what;
        switch (kind) {
            case CAMERA -> {
                String device = INDEX.matcher(spec).matches() ? "/dev/video" + spec : spec;
                what = "camera " + device;
                if (!Files.exists(Path.of(device))) {
                    throw new NoSuchFileException(device, null, "no camera at " + device
                            + " (no such device; is it plugged in? `ls /dev/video*` lists the cameras)");
                }
                g = new FFmpegFrameGrabber(device);
                g.setFormat("video4linux2");
            }
            case TESTSRC -> {
                var m = TESTSRC.matcher(spec);
                m.matches();
                String size = m.group(1) == null ? "640x480" : m.group(1) + "x" + m.group(2);
                what = "FFmpeg testsrc2 " + size;
                // the realtime filter paces it like a camera (30 frames per second) instead of as fast as it can be drawn
                g = new FFmpegFrameGrabber("testsrc2=size=" + size + ":rate=30,realtime");
                g.setFormat("lavfi");
            }
            case URL -> {
                what = "stream " + spec;
                g = new FFmpegFrameGrabber(spec);
            }
            default -> {
                what = "video file " + spec;
                Path p = Path.of(spec);
                if (!Files.isRegularFile(p)) {
                    throw new NoSuchFileException(spec, null, Files.isDirectory(p) ? "is a directory, not a video file"
                            : "no such video file (--source takes a camera index or /dev/videoN, a file, a URL or testsrc)");
                }
                g = new FFmpegFrameGrabber(p.toFile());
            }
        }
        g.setPixelFormat(avutil.AV_PIX_FMT_BGR24);
        try {
            g.start();
        } catch (FrameGrabber.Exception | RuntimeException e) {
            try {
                g.release();
            } catch (FrameGrabber.Exception ignored) {
                // already failing
            }
            String hint = kind == Kind.CAMERA ? " (busy, or not a capture device?)" : "";
            throw new IOException("cannot open " + what + hint + ": " + e.getMessage(), e);
        }
        log.info("opened {} ({}x{}, {} fps)", what, g.getImageWidth(), g.getImageHeight(),
                String.format(java.util.Locale.ROOT, "%.1f", g.getFrameRate()));
        return new FFmpegSource(g, kind, what);
    }

    /** FFmpeg finds its devices (lavfi, v4l2) only after this; it also quiets FFmpeg's own console log. */
    static void registerDevices() {
        if (!devicesRegistered) {
            synchronized (FFmpegSource.class) {
                if (!devicesRegistered) {
                    avutil.av_log_set_level(avutil.AV_LOG_ERROR);
                    avdevice.avdevice_register_all();
                    devicesRegistered = true;
                }
            }
        }
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public BufferedImage grab() throws IOException {
        synchronized (lock) {
            if (closed) {
                return null;
            }
            try {
                Frame f = grabber.grabImage();
                return f == null ? null : Frames.toRgbImage(f);
            } catch (FrameGrabber.Exception e) {
                throw new IOException(description + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public double frameRate() {
        double r = grabber.getFrameRate();
        return Double.isFinite(r) && r > 0 && r < 1000 ? r : 0;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                grabber.stop();
                grabber.release();
            } catch (FrameGrabber.Exception e) {
                log.warn("closing {}: {}", description, e.getMessage());
            }
        }
        log.debug("released {}", description);
    }
}
