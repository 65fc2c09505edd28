package io.kindling.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A 64-bit hash of (seed, prompt, key) defined by arithmetic alone, so every JVM, Java version and host computes
 * the same value: the UTF-8 bytes are absorbed eight at a time (little-endian) through the SplitMix64 finalizer.
 * Each string is preceded by its length, so ("ab", "c") and ("a", "bc") differ, and a missing key differs from
 * an empty one.
 */
public final class RowSeeds {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final long NO_KEY = 0xD6E8FEB86659FD93L;

    private RowSeeds() {
    }

    /**
     * The seed of one row's sampler: a function of the configured seed, the prompt and an optional key only, never
     * of arrival order, partitioning, task, slot or retry; so a retried or restored row draws the same tokens.
     */
    public static long of(long configuredSeed, String prompt, String key) {
        long h = mix(configuredSeed);
        h = absorb(h, prompt.getBytes(StandardCharsets.UTF_8));
        return key == null ? mix(h ^ NO_KEY) : absorb(h, key.getBytes(StandardCharsets.UTF_8));
    }

    private static long absorb(long h, byte[] bytes) {
        h = mix(h ^ bytes.length);
        ByteBuffer words = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (words.remaining() >= Long.BYTES) {
            h = mix(h ^ words.getLong());
        }
        long tail = 0;
        for (int shift = 0; words.hasRemaining(); shift += 8) {
            tail |= (words.get() & 0xFFL) << shift;
        }
        return mix(h ^ tail);
    }

    /** SplitMix64's output function over the next state: a bijection that spreads every input bit. */
    private static long mix(long z) {
        z += GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
