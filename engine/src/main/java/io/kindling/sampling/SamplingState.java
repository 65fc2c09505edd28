package io.kindling.sampling;

/**
 * Per-sequence sampling state: the request's own random generator (seeded from its seed, so its draws do not depend
 * on the batch) and the token counts that penalties need.
 */
public final class SamplingState {

    /**
     * @param fallbackSeed seeds the generator when {@code params} has no seed
     * @param eosTokenIds suppressed (with {@code params.stopTokenIds()}) until {@code params.minTokens()} are generated
     */
    public SamplingState(SamplingParams params, int[] promptTokenIds, int[] eosTokenIds, long fallbackSeed) {
        throw new UnsupportedOperationException("TODO");
    }

    public SamplingParams params() {
        throw new UnsupportedOperationException("TODO");
    }

    /** Records a generated token (penalties and min_tokens count it). */
    public void accept(int tokenId) {
        throw new UnsupportedOperationException("TODO");
    }
}
