package io.kindling.sampling;

import java.util.BitSet;
import java.util.Map;
import java.util.Objects;

/**
 * The sparse edits one draw makes to its logits row before sampling: min_tokens suppression and the repetition,
 * frequency and presence penalties, as one list in ascending token id order. Entry {@code j} turns
 * {@code logits[tokenIds[j]] = v} into {@code (repeated[j] ? (v > 0 ? v / repetitionPenalty : v * repetitionPenalty)
 * : v) + additive[j]}. The CPU {@link Sampler} applies it and the GPU sampler uploads it, so both edit the same
 * logits by one definition.
 *
 * <p>vLLM subtracts the frequency and the presence terms one after the other; here they are one additive term
 * ({@code -(frequency * count) - presence}, in float32), which can differ from vLLM's by one rounding. A suppressed
 * token's term is -infinity.
 *
 * @param tokenIds ascending, distinct, each in [0, vocab)
 * @param repeated whether the token was in the prompt or output (repetition penalty)
 * @param additive added after the repetition penalty
 */
public record LogitAdjustments(float repetitionPenalty, int[] tokenIds, boolean[] repeated, float[] additive) {

    public LogitAdjustments {
        Objects.requireNonNull(tokenIds, "tokenIds");
        if (repeated.length != tokenIds.length || additive.length != tokenIds.length) {
            throw new IllegalArgumentException("adjustment arrays differ in length: " + tokenIds.length + " ids, "
                    + repeated.length + " flags, " + additive.length + " terms");
        }
    }

    /** No edits: shared by every draw without penalties or min_tokens suppression (resolving one allocates none). */
    private static final LogitAdjustments NONE = new LogitAdjustments(1f, new int[0], new boolean[0], new float[0]);

    /** What {@code state}'s next draw edits, for a logits row of {@code vocabSize}; ids past the row are dropped. */
    public static LogitAdjustments of(SamplingState state, int vocabSize) {
        SamplingParams params = state.params();
        float repetition = (float) params.repetitionPenalty();
        float frequency = (float) params.frequencyPenalty();
        float presence = (float) params.presencePenalty();
        if (repetition == 1f && frequency == 0f && presence == 0f && state.numOutputTokens() >= params.minTokens()) {
            return NONE;
        }
        BitSet suppressed = new BitSet();
        // min_tokens: until that many tokens are generated, EOS and the stop token ids cannot be sampled (vLLM masks
        // them whatever ignore_eos says).
        if (state.numOutputTokens() < params.minTokens()) {
            for (int id : state.eosTokenIds()) {
                setInRange(suppressed, id, vocabSize);
            }
            for (int id : params.stopTokenIds()) {
                setInRange(suppressed, id, vocabSize);
            }
        }
        BitSet repeatedIds = repetition != 1f ? state.promptAndOutputTokens() : new BitSet();
        Map<Integer, Integer> counts = frequency != 0f || presence != 0f ? state.outputTokenCounts() : Map.of();
        BitSet ids = (BitSet) suppressed.clone();
        ids.or(repeatedIds);
        counts.keySet().forEach(id -> setInRange(ids, id, vocabSize));
        ids.clear(vocabSize, Math.max(vocabSize, ids.length()));
        int size = ids.cardinality();
        int[] tokenIds = new int[size];
        boolean[] repeated = new boolean[size];
        float[] additive = new float[size];
        int j = 0;
        for (int id = ids.nextSetBit(0); id >= 0; id = ids.nextSetBit(id + 1), j++) {
            tokenIds[j] = id;
            repeated[j] = repeatedIds.get(id);
            Integer count = counts.get(id);
            additive[j] = suppressed.get(id) ? Float.NEGATIVE_INFINITY
                    : count == null ? 0f : -(frequency * count) - presence;
        }
        return new LogitAdjustments(repetition, tokenIds, repeated, additive);
    }

    private static void setInRange(BitSet ids, int id, int vocabSize) {
        if (id >= 0 && id < vocabSize) {
            ids.set(id);
        }
    }

    public int size() {
        return tokenIds.length;
    }

    /** Edits {@code logits} in place. */
    public void applyTo(float[] logits) {
        for (int j = 0; j < tokenIds.length; j++) {
            int id = tokenIds[j];
            float v = logits[id];
            if (repeated[j]) {
                v = v > 0 ? v / repetitionPenalty : v * repetitionPenalty;
            }
            logits[id] = v + additive[j];
        }
    }
}
