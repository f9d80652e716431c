package dev.nfnets.video;

import dev.nfnets.train.data.FashionMnist;
import dev.nfnets.train.data.Split;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a short video of Fashion-MNIST test images, scaled up, for trying {@code nfnets stream} on a model that
 * {@code nfnets train} made without a camera:
 * {@code java -cp ... dev.nfnets.video.FashionMnistClip clip.mp4 [images] [framesPerImage] [size]}.
 */
public final class FashionMnistClip {
    private static final Logger log = LoggerFactory.getLogger(FashionMnistClip.class);

    private FashionMnistClip() {
    }

    /**
     * @param out            the .mp4 file (MPEG-4 video, 10 frames per second)
     * @param images         how many test images, from the first
     * @param framesPerImage how many frames each image is shown for
     * @param size           the frame's width and height in pixels
     */
    public static void write(Path out, int images, int framesPerImage, int size) throws IOException {
        if (images < 1 || framesPerImage < 1 || size < 28) {
            throw new IllegalArgumentException("need images >= 1, framesPerImage >= 1 and size >= 28");
        }
        FashionMnist test = FashionMnist.load(Split.TEST, null);
        Path temp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".partial");
        try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(temp.toFile(), size, size, 0)) {
            rec.setFormat("mp4");
            rec.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
            rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            rec.setVideoQuality(2);
            rec.setFrameRate(10);
            rec.start();
            for (int i = 0; i < Math.min(images, test.size()); i++) {
                BufferedImage small = new BufferedImage(FashionMnist.COLS, FashionMnist.ROWS, BufferedImage.TYPE_BYTE_GRAY);
                for (int p = 0; p < FashionMnist.ROWS * FashionMnist.COLS; p++) {
                    small.getRaster().setSample(p % FashionMnist.COLS, p / FashionMnist.COLS, 0, test.rawPixel(i, p));
                }
                BufferedImage frame = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
                Graphics2D g = frame.createGraphics();
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g.drawImage(small, 0, 0, size, size, null);
                g.dispose();
                for (int k = 0; k < framesPerImage; k++) {
                    rec.record(Frames.toFrame(frame), avutil.AV_PIX_FMT_BGR24);
                }
                log.debug("image {}: {}", i, FashionMnist.CLASS_NAMES.get(test.label(i)));
            }
            rec.stop();
        } catch (org.bytedeco.javacv.FrameRecorder.Exception e) {
            Files.deleteIfExists(temp);
            throw new IOException("writing " + out + ": " + e.getMessage(), e);
        }
        Files.move(temp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log.info("wrote {} Fashion-MNIST test images ({} frames each, {}x{}) to {}", images, framesPerImage, size, size, out);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: FashionMnistClip OUT.mp4 [images=10] [framesPerImage=10] [size=224]");
            System.exit(2);
        }
        write(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 10,
                args.length > 2 ? Integer.parseInt(args[2]) : 10, args.length > 3 ? Integer.parseInt(args[3]) : 224);
    }
}
