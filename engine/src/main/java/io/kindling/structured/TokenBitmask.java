package io.kindling.structured;

/**
 * Applies an allowed-token bitmask (bit {@code id & 31} of word {@code id >> 5}, as XGrammar lays it out) to a
 * logits row: disallowed tokens become -infinity. The CPU twin of the CUDA kernel {@code apply_token_bitmask}.
 */
public final class TokenBitmask {

    private TokenBitmask() {
    }

    public static void apply(int[] words, float[] logits) {
        for (int w = 0; w < words.length; w++) {
            int bits = words[w];
            if (bits == -1) {
                continue;
            }
            int base = w << 5;
            int end = Math.min(32, logits.length - base);
            for (int b = 0; b < end; b++) {
                if ((bits & (1 << b)) == 0) {
                    logits[base + b] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        for (int i = words.length << 5; i < logits.length; i++) {
            logits[i] = Float.NEGATIVE_INFINITY;
        }
    }
}
