package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.CompletionOutput;
import io.kindling.core.FinishReason;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.TokenLogprob;
import java.util.List;
import java.util.Optional;

/**
 * One output row, as both writers lay it out.
 *
 * @param text empty for a row that failed before generating
 * @param logprobs present when the row asked for them
 */
record OutputRow(JsonNode id, Optional<String> text, int[] tokenIds, int[] promptTokenIds, FinishReason finishReason,
                 Optional<List<List<TokenLogprob>>> logprobs, Optional<String> error) {

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
        return new OutputRow(row.id(), Optional.of(c.text()), c.tokenIds(), output.promptTokenIds(), reason,
                row.params().logprobs().isPresent() ? Optional.of(c.logprobs().orElse(List.of())) : Optional.empty(),
                output.error().map(e -> row.where() + ": " + e));
    }
}
