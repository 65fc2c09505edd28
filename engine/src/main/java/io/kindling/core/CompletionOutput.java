package io.kindling.core;

import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;

/**
 * One generated continuation.
 *
 * @param text detokenized output, stop string excluded
 * @param tokenIds generated token ids (a matched stop token or EOS included, as vLLM reports them)
 * @param logprobs top-K logprobs per generated token, present when the request asked for them
 */
public record CompletionOutput(String text, int[] tokenIds, FinishReason finishReason,
                               Optional<List<List<TokenLogprob>>> logprobs) {
}
