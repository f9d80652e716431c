package dev.nfnets.core.io;

import java.io.ByteArrayOutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Test helpers: the nfnet-micro reference fixtures on the test classpath, and hand-made .npy bytes. */
final class IoFixtures {
    private IoFixtures() {
    }

    /** A file under {@code src/test/resources/fixtures/nfnet-micro/}, e.g. {@code "s64/labels.npy"}. */
    static Path micro(String relative) {
        String resource = "/fixtures/nfnet-micro/" + relative;
        URL url = IoFixtures.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("test resource " + resource + " is missing from the classpath");
        }
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Builds a .npy file by hand: magic, version, header length (2 bytes for 1.0, 4 for 2.0/3.0), the dict padded with
     * spaces and a newline to a multiple of 64, then the data.
     */
    static byte[] npy(int major, String dict, byte[] data) {
        byte[] dictBytes = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int prefix = major == 1 ? 10 : 12;
        int len = dictBytes.length + 1;
        int pad = (64 - (prefix + len) % 64) % 64;
        ByteBuffer bb = ByteBuffer.allocate(prefix + len + pad).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            bb.putShort((short) (len + pad));
        } else {
            bb.putInt(len + pad);
        }
        bb.put(dictBytes);
        for (int i = 0; i < pad; i++) {
            bb.put((byte) ' ');
        }
        bb.put((byte) '\n');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bb.array());
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] floatsLE(float... v) {
        ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(v);
        return bb.array();
    }

    static byte[] longsLE(long... v) {
        ByteBuffer bb = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(v);
        return bb.array();
    }
}
