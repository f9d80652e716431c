package dev.nfnets.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a tensor file is, told from its first bytes rather than its name: DeepMind's {@code F0_haiku.npz} is a pickle
 * despite its suffix, and a renamed file is still read correctly.
 *
 * <pre>{@code
 * switch (TensorFileKind.sniff(path)) {
 *     case NPZ -> Npz.read(path);
 *     case SAFETENSORS -> Safetensors.read(path);
 *     case PICKLE -> HaikuPickle.read(path);
 *     default -> throw new IOException("not a weight file");
 * }
 * }</pre>
 */
public enum TensorFileKind {
    /** A zip archive ({@code PK\3\4}, or {@code PK\5\6} when empty): numpy's .npz. */
    NPZ,
    /** An 8-byte little-endian header length followed by a JSON object. */
    SAFETENSORS,
    /** A Python pickle of protocol 2 to 5 ({@code \x80} and the protocol byte): DeepMind's Haiku params. */
    PICKLE,
    /** A single numpy array ({@code \x93NUMPY}). */
    NPY,
    /** None of the above. */
    UNKNOWN;

    /**
     * @param file the file
     * @return its kind, from at most its first 16 bytes
     * @throws IOException when it cannot be read or is a directory
     */
    public static TensorFileKind sniff(Path file) throws IOException {
        IoUtil.requireRegularFile(file, "tensor");
        byte[] head = new byte[16];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            while (n < head.length) {
                int r = in.read(head, n, head.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        }
        return sniff(java.util.Arrays.copyOf(head, n), Files.size(file));
    }

    /**
     * @param head     the first bytes of the file
     * @param fileSize the file's size
     * @return the kind
     */
    public static TensorFileKind sniff(byte[] head, long fileSize) {
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6))) {
            return NPZ;
        }
        if (HaikuPickle.looksLikePickle(head)) {
            return PICKLE;
        }
        if (head.length >= 6 && (head[0] & 0xff) == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M'
                && head[4] == 'P' && head[5] == 'Y') {
            return NPY;
        }
        if (head.length >= 9) {
            long headerLength = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (head[8] == '{' && headerLength > 1 && headerLength <= fileSize - 8) {
                return SAFETENSORS;
            }
        }
        return UNKNOWN;
    }
}
