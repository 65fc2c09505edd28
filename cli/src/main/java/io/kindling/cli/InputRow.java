package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.SamplingParams;

/** One validated input row: a request to run, or the error its output row reports. {@code index} is 0-based. */
sealed interface InputRow {

    long index();

    String where();

    /** The row's {@code id}, echoed back verbatim; JSON null when the row has none. */
    JsonNode id();

    record Spec(long index, String where, JsonNode id, Prompt prompt, SamplingParams params) implements InputRow {
    }

    /** @param error the message for the output row, starting with {@code where} */
    record Rejected(long index, String where, JsonNode id, String error) implements InputRow {
    }
}
