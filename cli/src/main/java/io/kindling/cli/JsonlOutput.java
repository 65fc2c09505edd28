package io.kindling.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import io.kindling.core.CompletionOutput;
import io.kindling.sampling.TokenLogprob;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * JSONL output: one object a line with {@code id, text, token_ids, prompt_token_ids, finish_reason}, then
 * {@code logprobs} when the row asked for them, then {@code parsed} (the JSON value) when it asked for JSON, then
 * {@code choices} when it asked for several completions (each {@code text, token_ids, finish_reason},
 * {@code logprobs} when asked, {@code cumulative_logprob} for a beam, {@code parsed} for JSON, {@code error} when the
 * completion has one), then {@code error}.
 */
final class JsonlOutput implements OutputWriter {

    private final JsonGenerator json;

    JsonlOutput(Path path, boolean append) throws IOException {
        OpenOption[] options = append ? new OpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.APPEND}
                : new OpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE};
        json = Json.MAPPER.createGenerator(new BufferedOutputStream(Files.newOutputStream(path, options)),
                JsonEncoding.UTF8);
        json.setPrettyPrinter(new MinimalPrettyPrinter(""));
    }

    @Override
    public void write(OutputRow row) throws IOException {
        json.writeStartObject();
        json.writeFieldName("id");
        json.writeTree(row.id());
        json.writeFieldName("text");
        if (row.text().isPresent()) {
            json.writeString(row.text().get());
        } else {
            json.writeNull();
        }
        json.writeFieldName("token_ids");
        json.writeArray(row.tokenIds(), 0, row.tokenIds().length);
        json.writeFieldName("prompt_token_ids");
        json.writeArray(row.promptTokenIds(), 0, row.promptTokenIds().length);
        json.writeStringField("finish_reason", row.finishReason().wireName());
        if (row.logprobs().isPresent()) {
            json.writeFieldName("logprobs");
            writeLogprobs(row.logprobs().get());
        }
        if (row.parsesJson()) {
            json.writeFieldName("parsed");
            json.writeTree(OutputRow.parsed(row.text().orElse(""), row.error().isPresent()));
        }
        if (!row.choices().isEmpty()) {
            json.writeArrayFieldStart("choices");
            for (CompletionOutput c : row.choices()) {
                writeChoice(c, row.logprobs().isPresent(), row.parsesJson());
            }
            json.writeEndArray();
        }
        json.writeStringField("error", row.error().orElse(null));
        json.writeEndObject();
        json.writeRaw('\n');
    }

    private void writeChoice(CompletionOutput c, boolean withLogprobs, boolean parsesJson) throws IOException {
        json.writeStartObject();
        json.writeStringField("text", c.text());
        json.writeFieldName("token_ids");
        json.writeArray(c.tokenIds(), 0, c.tokenIds().length);
        json.writeStringField("finish_reason", c.finishReason().wireName());
        if (withLogprobs) {
            json.writeFieldName("logprobs");
            writeLogprobs(c.logprobs().orElse(List.of()));
        }
        if (c.cumulativeLogprob().isPresent()) {
            json.writeNumberField("cumulative_logprob", c.cumulativeLogprob().getAsDouble());
        }
        if (parsesJson) {
            json.writeFieldName("parsed");
            json.writeTree(OutputRow.parsed(c.text(), c.error().isPresent()));
        }
        if (c.error().isPresent()) {
            json.writeStringField("error", c.error().get());
        }
        json.writeEndObject();
    }

    private void writeLogprobs(List<List<TokenLogprob>> perToken) throws IOException {
        json.writeStartArray();
        for (List<TokenLogprob> top : perToken) {
            json.writeStartArray();
            for (TokenLogprob t : top) {
                json.writeStartObject();
                json.writeNumberField("token_id", t.tokenId());
                json.writeNumberField("logprob", t.logprob());
                json.writeEndObject();
            }
            json.writeEndArray();
        }
        json.writeEndArray();
    }

    @Override
    public void flush() throws IOException {
        json.flush();
    }

    @Override
    public void close() throws IOException {
        json.close();
    }
}
