package io.kindling.core;

import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One generated continuation: a sample, or a beam.
 *
 * @param text detokenized output, stop string excluded
 * @param tokenIds generated token ids (a matched stop token or EOS included, as vLLM reports them)
 * @param logprobs top-K logprobs per generated token, present when the request asked for them
 * @param cumulativeLogprob for a beam, the sum of its tokens' logprobs (log_softmax of the raw logits); its beam
 *     score is this over {@code tokenIds.length ^ length_penalty}
 * @param error why this completion is not what was asked for although it ran: a structured output that its
 *     length limit cut before it was complete (its finish reason is then {@code length})
 */
public record CompletionOutput(String text, int[] tokenIds, FinishReason finishReason,
                               Optional<List<List<TokenLogprob>>> logprobs, OptionalDouble cumulativeLogprob,
                               Optional<String> error) {

    /** A completion without error. */
    public CompletionOutput(String text, int[] tokenIds, FinishReason finishReason,
                            Optional<List<List<TokenLogprob>>> logprobs, OptionalDouble cumulativeLogprob) {
        this(text, tokenIds, finishReason, logprobs, cumulativeLogprob, Optional.empty());
    }

    /** A sampled completion, which carries no cumulative logprob. */
    public CompletionOutput(String text, int[] tokenIds, FinishReason finishReason,
                            Optional<List<List<TokenLogprob>>> logprobs) {
        this(text, tokenIds, finishReason, logprobs, OptionalDouble.empty());
    }
}
