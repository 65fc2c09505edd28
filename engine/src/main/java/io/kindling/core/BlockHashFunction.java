package io.kindling.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Hashes one full block chained to its parent. Injectable so tests can force collisions; the engine uses
 * {@link #sha256()}.
 */
@FunctionalInterface
interface BlockHashFunction {

    /**
     * @param extraKey what besides the tokens decides the block's K/V (a cache salt on a first block), or null
     */
    BlockHash hash(BlockHash parent, int[] tokenIds, String extraKey);

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
        return (parent, tokenIds, extraKey) -> {
            byte[] extra = extraKey == null ? new byte[0] : extraKey.getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.allocate(8 + 4 + 4 * tokenIds.length + 1 + extra.length);
            buf.putLong(parent.value()).putInt(tokenIds.length);
            for (int t : tokenIds) {
                buf.putInt(t);
            }
            buf.put((byte) (extraKey == null ? 0 : 1)).put(extra);
            return new BlockHash(ByteBuffer.wrap(digest.digest(buf.array())).getLong());
        };
    }
}
