package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.CompletionOutput;
import io.kindling.core.FinishReason;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;

/**
 * One output row, as both writers lay it out. The top-level fields describe the first completion.
 *
 * @param text empty for a row that failed before generating
 * @param logprobs present when the row asked for them
 * @param choices every completion, when the row asked for several ({@code n > 1}) or for beam search; else empty
 */
record OutputRow(JsonNode id, Optional<String> text, int[] tokenIds, int[] promptTokenIds, FinishReason finishReason,
                 Optional<List<List<TokenLogprob>>> logprobs, Optional<String> error, List<CompletionOutput> choices) {

    OutputRow {
        choices = List.copyOf(choices);
    }

    /** A row with one completion and no {@code choices}. */
    OutputRow(JsonNode id, Optional<String> text, int[] tokenIds, int[] promptTokenIds, FinishReason finishReason,
              Optional<List<List<TokenLogprob>>> logprobs, Optional<String> error) {
        this(id, text, tokenIds, promptTokenIds, finishReason, logprobs, error, List.of());
    }

    static OutputRow rejected(InputRow.Rejected row) {
        return failed(row.id(), row.error());
    }

    static OutputRow failed(JsonNode id, String error) {
        return new OutputRow(id, Optional.empty(), new int[0], new int[0], FinishReason.ERROR, Optional.empty(),
                Optional.of(error));
    }

    static OutputRow completed(InputRow.Spec row, RequestOutput output) {
        CompletionOutput c = output.completion();
        FinishReason reason = output.error().isPresent() ? FinishReason.ERROR : c.finishReason();
        boolean several = output.error().isEmpty() && (row.params().n() > 1 || row.params().isBeamSearch());
        return new OutputRow(row.id(), Optional.of(c.text()), c.tokenIds(), output.promptTokenIds(), reason,
                row.params().logprobs().isPresent() ? Optional.of(c.logprobs().orElse(List.of())) : Optional.empty(),
                output.error().map(e -> row.where() + ": " + e), several ? output.completions() : List.of());
    }
}
