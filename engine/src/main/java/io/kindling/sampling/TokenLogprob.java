package io.kindling.sampling;

/** One entry of a top-K logprobs list: a token and its natural-log probability under the raw logits. */
public record TokenLogprob(int tokenId, float logprob) {
}
