package io.kindling.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Hashes one full block chained to its parent: of the parent block's hash, its token ids and its extra keys, so equal
 * hashes mean (short of a collision) equal contents from the sequence's first token on. A hash only finds candidates
 * in the prefix cache; {@link BlockPool#getCachedBlock} compares the stored contents before returning one. Hashes
 * are plain {@code long}s, so that the blocks that fill up in a step allocate nothing. Injectable so tests can force
 * collisions; the engine uses {@link #sha256()}.
 */
@FunctionalInterface
interface BlockHashFunction {

    /** Stands for the parent of a sequence's first block. */
    long ROOT = 0;

    /**
     * @param tokenIds read during the call only (the caller reuses the array)
     * @param extraKey what besides the tokens decides the block's K/V (a cache salt on a first block), or null
     */
    long hash(long parent, int[] tokenIds, String extraKey);

    /**
     * The first 64 bits of SHA-256 over the parent hash, the token ids and the extra key: a strong hash, so that
     * collisions (which would only cost a cache miss) stay out of reach. Not thread-safe: one per cache.
     */
    static BlockHashFunction sha256() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
        // one buffer and one digest output, grown as needed and reused: a cache hashes a block for every
        // sequence that fills one, many in each step
        return new BlockHashFunction() {
            private ByteBuffer buf = ByteBuffer.allocate(256);
            private final byte[] out = new byte[32];

            @Override
            public long hash(long parent, int[] tokenIds, String extraKey) {
                byte[] extra = extraKey == null ? null : extraKey.getBytes(StandardCharsets.UTF_8);
                int length = 8 + 4 + 4 * tokenIds.length + 1 + (extra == null ? 0 : extra.length);
                if (buf.capacity() < length) {
                    buf = ByteBuffer.allocate(Math.max(length, 2 * buf.capacity()));
                }
                buf.clear();
                buf.putLong(parent).putInt(tokenIds.length);
                for (int t : tokenIds) {
                    buf.putInt(t);
                }
                buf.put((byte) (extra == null ? 0 : 1));
                if (extra != null) {
                    buf.put(extra);
                }
                digest.update(buf.array(), 0, length);
                try {
                    digest.digest(out, 0, out.length);
                } catch (DigestException e) {
                    throw new IllegalStateException("SHA-256 writes 32 bytes", e);
                }
                long first64 = 0; // big-endian, as ByteBuffer.getLong reads it
                for (int i = 0; i < Long.BYTES; i++) {
                    first64 = first64 << 8 | (out[i] & 0xFF);
                }
                return first64;
            }
        };
    }
}
