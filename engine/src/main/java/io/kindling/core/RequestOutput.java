package io.kindling.core;

import java.util.List;
import java.util.Optional;

/**
 * The final result of a request: its completions ({@code n} samples in sample order, or the best {@code n} beams,
 * best first), or an error that names the problem (then the one completion's {@code finishReason()} is
 * {@link FinishReason#ERROR}).
 */
public record RequestOutput(String requestId, int[] promptTokenIds, List<CompletionOutput> completions,
                           Optional<String> error) {

    public RequestOutput {
        completions = List.copyOf(completions);
        if (completions.isEmpty()) {
            throw new IllegalArgumentException("request " + requestId + ": an output needs a completion");
        }
    }

    /** A single completion. */
    public RequestOutput(String requestId, int[] promptTokenIds, CompletionOutput completion, Optional<String> error) {
        this(requestId, promptTokenIds, List.of(completion), error);
    }

    /** The first completion: the only one when {@code n == 1}. */
    public CompletionOutput completion() {
        return completions.get(0);
    }
}
