package io.kindling.backend;

import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;

/** A sampled token and, when asked for, the top-K logprobs of its step (raw logits, before any transform). */
public record SampleResult(int tokenId, Optional<List<TokenLogprob>> topLogprobs) {
}
