package dev.nfnets.serve;

import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Turns a request body into a decoded image, refusing bad input before it costs anything: the body is read
 * into memory up to a byte limit and a time limit, a multipart form is parsed in memory (Jetty's parser with an
 * in-memory threshold above the body limit and no files directory, so no part is ever written to disk), the image's width and height
 * are read from its header and checked against a pixel limit <em>before</em> decoding (a 100-byte PNG can
 * declare 100000 x 100000 pixels, 40 GB once decoded), and decoder warnings (a truncated JPEG decodes into
 * grey filler otherwise) refuse the image. Every refusal is an {@link ApiException} naming the problem.
 */
final class RequestImages {
    /** ImageIO would otherwise buffer streams in temporary files. */
    static {
        ImageIO.setUseCache(false);
    }

    private RequestImages() {
    }

    /**
     * Reads at most {@code maxBytes} from {@code in}, failing when the client takes longer than
     * {@code timeoutMs} in total (the connection's idle timeout bounds each single read).
     */
    static byte[] readBody(InputStream in, long declaredLength, long maxBytes, long timeoutMs) throws IOException {
        if (declaredLength > maxBytes) {
            throw tooLarge(declaredLength, maxBytes);
        }
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        ByteArrayOutputStream out = new ByteArrayOutputStream(declaredLength > 0 ? (int) declaredLength : 64 * 1024);
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        try {
            for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                total += r;
                if (total > maxBytes) {
                    throw tooLarge(total, maxBytes);
                }
                out.write(buf, 0, r);
                if (System.nanoTime() > deadline) {
                    throw new ApiException(408, "body_timeout", "the request body took longer than " + timeoutMs
                            + " ms to arrive (" + total + " bytes received)");
                }
            }
        } catch (IOException e) {
            // Jetty reports an idle client as a timeout; anything else is a broken upload.
            String what = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (e.getCause() instanceof java.util.concurrent.TimeoutException
                    || what.contains("timeout")) {
                throw new ApiException(408, "body_timeout", "the client stopped sending the request body for longer than "
                        + timeoutMs + " ms (" + total + " bytes received)");
            }
            throw new ApiException(400, "body_unreadable", "the request body could not be read: " + e.getMessage());
        }
        return out.toByteArray();
    }

    /**
     * The image bytes of a request: the body itself for {@code image/*}, {@code application/octet-stream} or no
     * content type; the first file part (or the part named {@code image}) of a {@code multipart/form-data} body.
     */
    static byte[] imageBytes(String contentType, byte[] body, long maxBytes) {
        return checkContentType(contentType) ? fromMultipart(contentType, body, maxBytes) : body;
    }

    /**
     * Refuses a content type that cannot carry an image, before the body is read.
     *
     * @return whether the body is a multipart form (else it is the image itself)
     */
    static boolean checkContentType(String contentType) {
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).strip();
        if (type.isEmpty() || type.startsWith("image/") || type.startsWith("application/octet-stream")) {
            return false;
        }
        if (type.startsWith("multipart/form-data")) {
            return true;
        }
        String hint = type.startsWith("application/x-www-form-urlencoded")
                ? " (curl --data-binary sends this unless given -H 'Content-Type: image/jpeg')" : "";
        throw new ApiException(415, "unsupported_content_type", "content type '" + contentType + "' is not accepted: "
                + "send the image bytes as image/jpeg, image/png (any image/*) or application/octet-stream, "
                + "or a multipart/form-data form with a file field named 'image'" + hint);
    }

    private static byte[] fromMultipart(String contentType, byte[] body, long maxBytes) {
        String boundary = MultiPart.extractBoundary(contentType);
        if (boundary == null || boundary.isEmpty()) {
            throw new ApiException(400, "bad_multipart", "multipart/form-data content type has no boundary parameter");
        }
        // Memory threshold above the body limit and no files directory: every part stays in memory.
        MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
        parser.setMaxLength(maxBytes);
        parser.setMaxMemoryFileSize(maxBytes + 1);
        parser.setMaxParts(100);
        try (MultiPartFormData.Parts parts = parser.parse(Content.Source.from(ByteBuffer.wrap(body))).get(10, TimeUnit.SECONDS)) {
            MultiPart.Part chosen = parts.getFirst("image");
            if (chosen == null) {
                for (MultiPart.Part p : parts) {
                    if (p.getFileName() != null) {
                        chosen = p;
                        break;
                    }
                }
            }
            if (chosen == null) {
                List<String> names = new ArrayList<>();
                parts.forEach(p -> names.add(p.getName()));
                throw new ApiException(400, "missing_image_field", "the multipart form has no file field (expected one "
                        + "named 'image'); fields sent: " + names);
            }
            ByteBuffer content = Content.Source.asByteBuffer(chosen.getContentSource());
            byte[] out = new byte[content.remaining()];
            content.get(out);
            return out;
        } catch (ExecutionException e) {
            throw new ApiException(400, "bad_multipart", "the multipart/form-data body cannot be parsed: "
                    + e.getCause().getMessage());
        } catch (IOException | TimeoutException e) {
            throw new ApiException(400, "bad_multipart", "the multipart/form-data body cannot be parsed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "shutting_down", "interrupted while parsing the multipart body");
        }
    }

    /** Decodes {@code bytes}, checking the declared size against {@code maxPixels} first. */
    static BufferedImage decode(byte[] bytes, long maxPixels) {
        if (bytes.length == 0) {
            throw new ApiException(400, "empty_body", "the request body is empty: send the image bytes (JPEG, PNG, "
                    + "GIF, BMP) or a multipart form with a file field named 'image'");
        }
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ApiException(415, "not_an_image", "the body (" + bytes.length + " bytes) is not an image any "
                        + "decoder here recognises (JPEG, PNG, GIF, BMP)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new ApiException(400, "bad_image", "the image header declares " + w + " x " + h + " pixels");
                }
                if (w * h > maxPixels) {
                    throw new ApiException(413, "image_too_large", "the image header declares " + w + " x " + h + " = "
                            + w * h + " pixels, more than the limit of " + maxPixels + "; it was not decoded");
                }
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new ApiException(400, "corrupt_image", "the " + reader.getFormatName() + " image is truncated or "
                            + "corrupt: " + warnings.get(0));
                }
                return image;
            } catch (IOException | RuntimeException e) {
                if (e instanceof ApiException a) {
                    throw a;
                }
                throw new ApiException(400, "corrupt_image", "the " + formatName(reader) + " image cannot be decoded "
                        + "(truncated or corrupt?): " + e.getMessage());
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new ApiException(400, "corrupt_image", "the image cannot be read: " + e.getMessage());
        }
    }

    private static String formatName(ImageReader reader) {
        try {
            return reader.getFormatName();
        } catch (IOException e) {
            return "image";
        }
    }

    private static ApiException tooLarge(long size, long max) {
        return new ApiException(413, "body_too_large", "the request body has " + size + " bytes or more, more than the "
                + "limit of " + max + " bytes (nfnets serve --max-body-mb)");
    }
}
