package io.kindling.backend;

import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;

/** A sampled token and, when asked for, the top-K logprobs of its step (raw logits, before any transform). */
public record SampleResult(int tokenId, Optional<List<TokenLogprob>> topLogprobs) {

    /** Token ids below this (every vocabulary of the supported families) have one shared result without logprobs. */
    private static final int SHARED_IDS = 1 << 18;
    private static final SampleResult[] WITHOUT_LOGPROBS = new SampleResult[SHARED_IDS];

    /**
     * A token drawn without logprobs: the one instance of its id, made on first use, so that a decode step allocates
     * no result per draw. Unsynchronized: a race makes two equal instances, and the record's final fields publish
     * either safely.
     */
    public static SampleResult of(int tokenId) {
        if (tokenId < 0 || tokenId >= SHARED_IDS) {
            return new SampleResult(tokenId, Optional.empty());
        }
        SampleResult shared = WITHOUT_LOGPROBS[tokenId];
        if (shared == null) {
            shared = new SampleResult(tokenId, Optional.empty());
            WITHOUT_LOGPROBS[tokenId] = shared;
        }
        return shared;
    }
}
