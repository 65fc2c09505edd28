package io.kindling.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.kindling.core.CompletionOutput;
import io.kindling.core.FinishReason;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.TokenLogprob;
import io.kindling.structured.StructuredOutput;
import java.util.List;
import java.util.Optional;

/**
 * One output row, as both writers lay it out. The top-level fields describe the first completion.
 *
 * @param text empty for a row that failed before generating
 * @param logprobs present when the row asked for them
 * @param choices every completion, when the row asked for several ({@code n > 1}) or for beam search; else empty
 * @param parsesJson whether the row asked for JSON (a {@code response_format}): the writers then add each
 *     completion's {@code parsed} value, null where it has an error
 */
record OutputRow(JsonNode id, Optional<String> text, int[] tokenIds, int[] promptTokenIds, FinishReason finishReason,
                 Optional<List<List<TokenLogprob>>> logprobs, Optional<String> error, List<CompletionOutput> choices,
                 boolean parsesJson) {

    OutputRow {
        choices = List.copyOf(choices);
    }

    OutputRow(JsonNode id, Optional<String> text, int[] tokenIds, int[] promptTokenIds, FinishReason finishReason,
              Optional<List<List<TokenLogprob>>> logprobs, Optional<String> error, List<CompletionOutput> choices) {
        this(id, text, tokenIds, promptTokenIds, finishReason, logprobs, error, choices, false);
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
        // a structured output cut short by max_tokens keeps its finish reason (length) and says so in error
        Optional<String> error = output.error().or(c::error).map(e -> row.where() + ": " + e);
        return new OutputRow(row.id(), Optional.of(c.text()), c.tokenIds(), output.promptTokenIds(), reason,
                row.params().logprobs().isPresent() ? Optional.of(c.logprobs().orElse(List.of())) : Optional.empty(),
                error, several ? output.completions() : List.of(),
                row.params().structuredOutput().filter(StructuredOutput::isJson).isPresent());
    }

    /** The JSON value of a completion's text, or null when it has an error (it is then not a whole document). */
    static JsonNode parsed(String text, boolean failed) {
        if (failed) {
            return NullNode.instance;
        }
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            // the engine only emits whole documents under a JSON constraint: a failure here is a bug to report
            throw new IllegalStateException("a complete JSON output does not parse: " + text, e);
        }
    }
}
