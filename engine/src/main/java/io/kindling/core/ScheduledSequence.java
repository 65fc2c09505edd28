package io.kindling.core;

/**
 * One sequence's share of a step: its next {@code numScheduledTokens} uncomputed tokens, starting at
 * position {@code numComputedTokens}.
 *
 * @param samples whether this step reaches the sequence's last token, so the model's logits there yield a
 *     new token; false for all but the last chunk of a chunked prefill
 */
record ScheduledSequence(Sequence seq, int numScheduledTokens, boolean samples) {
}
