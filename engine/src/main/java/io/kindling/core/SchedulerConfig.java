package io.kindling.core;

import java.util.OptionalInt;

/**
 * Limits of one scheduling step.
 *
 * @param maxNumSeqs most sequences running at once
 * @param maxNumBatchedTokens token budget of one step, prefill and decode tokens together
 * @param maxModelLen context length: a sequence finishes with {@code LENGTH} when it reaches this many tokens
 * @param longPrefillTokenThreshold if present, the most tokens one sequence gets in a step, so a long prompt
 *     is prefilled in chunks that leave budget to the others
 */
record SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                       OptionalInt longPrefillTokenThreshold) {

    SchedulerConfig {
        requirePositive(maxNumSeqs, "max_num_seqs");
        requirePositive(maxNumBatchedTokens, "max_num_batched_tokens");
        requirePositive(maxModelLen, "max_model_len");
        longPrefillTokenThreshold.ifPresent(t -> requirePositive(t, "long_prefill_token_threshold"));
    }

    /** Without a per-sequence chunk limit. */
    static SchedulerConfig of(int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen) {
        return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, maxModelLen, OptionalInt.empty());
    }

    private static void requirePositive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }
}
