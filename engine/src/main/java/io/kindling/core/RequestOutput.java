package io.kindling.core;

import java.util.Optional;

/**
 * The final result of a request: its completion, or an error that names the problem (then
 * {@code completion.finishReason()} is {@link FinishReason#ERROR}).
 */
public record RequestOutput(String requestId, int[] promptTokenIds, CompletionOutput completion,
                            Optional<String> error) {
}
