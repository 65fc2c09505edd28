package io.kindling.sampling;

import io.kindling.structured.ConstraintState;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Per-sequence sampling state: the request's own random generator (seeded from its seed, so its draws do not depend
 * on the batch) and the token counts that penalties need.
 */
public final class SamplingState {

    private final SamplingParams params;
    private final int[] eosTokenIds;
    private final SplittableRandom random;
    /** Prompt and output tokens, for the repetition penalty. A bit per vocab entry: ~19 KB at 152k. */
    private final BitSet promptAndOutputTokens = new BitSet();
    /**
     * Output token id -> count, for the frequency and presence penalties (kept only when one is set); sparse because
     * outputs are short.
     */
    private final Map<Integer, Integer> outputTokenCounts = new HashMap<>();
    private int numOutputTokens;
    private final Optional<ConstraintState> constraint;

    /**
     * @param fallbackSeed seeds the generator when {@code params} has no seed
     * @param eosTokenIds suppressed (with {@code params.stopTokenIds()}) until {@code params.minTokens()} are generated
     */
    public SamplingState(SamplingParams params, int[] promptTokenIds, int[] eosTokenIds, long fallbackSeed) {
        this(params, promptTokenIds, eosTokenIds, fallbackSeed, Optional.empty());
    }

    /** @param constraint the sequence's place in its structured-output constraint, which each token advances */
    public SamplingState(SamplingParams params, int[] promptTokenIds, int[] eosTokenIds, long fallbackSeed,
            Optional<ConstraintState> constraint) {
        this.constraint = Objects.requireNonNull(constraint, "constraint");
        this.params = Objects.requireNonNull(params, "params");
        this.eosTokenIds = eosTokenIds.clone();
        this.random = new SplittableRandom(params.seed().orElse(fallbackSeed));
        for (int tokenId : promptTokenIds) {
            promptAndOutputTokens.set(tokenId);
        }
    }

    public SamplingParams params() {
        return params;
    }

    /** The constraint's state, when the request has one. */
    public Optional<ConstraintState> constraint() {
        return constraint;
    }

    /** Records a generated token (penalties and min_tokens count it; a constraint advances with it). */
    public void accept(int tokenId) {
        if (constraint.isPresent()) { // no capturing lambda: every sample, every step
            constraint.get().accept(tokenId);
        }
        promptAndOutputTokens.set(tokenId);
        if (params.frequencyPenalty() != 0 || params.presencePenalty() != 0) { // the only readers of the counts
            outputTokenCounts.merge(tokenId, 1, Integer::sum);
        }
        numOutputTokens++;
    }

    int numOutputTokens() {
        return numOutputTokens;
    }

    int[] eosTokenIds() {
        return eosTokenIds;
    }

    BitSet promptAndOutputTokens() {
        return promptAndOutputTokens;
    }

    Map<Integer, Integer> outputTokenCounts() {
        return outputTokenCounts;
    }

    RandomGenerator random() {
        return random;
    }
}
