package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.core.CompletionOutput;
import io.kindling.core.FinishReason;
import io.kindling.sampling.TokenLogprob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlOutputTest {

    @TempDir
    Path dir;

    @Test
    void writesFieldsInContractOrderWithNullsAndOptionalLogprobs() throws IOException {
        Path out = dir.resolve("out.jsonl");
        try (OutputWriter writer = OutputWriter.open(out, FileFormat.of(out), IdKind.UTF8, false)) {
            writer.write(new OutputRow(Json.MAPPER.readTree("{\"k\": 1.10}"), Optional.of("Paris.\n\"é\""),
                    new int[] {5, 6}, new int[] {1, 2, 3}, FinishReason.STOP, Optional.empty(), Optional.empty()));
            writer.write(new OutputRow(Json.MAPPER.readTree("7"), Optional.of("ab"), new int[] {9, 8},
                    new int[] {1}, FinishReason.LENGTH,
                    Optional.of(List.of(List.of(new TokenLogprob(9, -0.25f), new TokenLogprob(4, -1.5f)),
                            List.of(new TokenLogprob(8, -0.125f), new TokenLogprob(2, -3.0f)))),
                    Optional.empty()));
            writer.write(OutputRow.failed(Json.MAPPER.readTree("\"r3\""), "line 3: prompt is empty"));
            writer.write(OutputRow.failed(Json.MAPPER.nullNode(), "line 4: empty line"));
        }
        assertEquals("""
                {"id":{"k":1.10},"text":"Paris.\\n\\"é\\"","token_ids":[5,6],"prompt_token_ids":[1,2,3],\
                "finish_reason":"stop","error":null}
                {"id":7,"text":"ab","token_ids":[9,8],"prompt_token_ids":[1],"finish_reason":"length",\
                "logprobs":[[{"token_id":9,"logprob":-0.25},{"token_id":4,"logprob":-1.5}],\
                [{"token_id":8,"logprob":-0.125},{"token_id":2,"logprob":-3.0}]],"error":null}
                {"id":"r3","text":null,"token_ids":[],"prompt_token_ids":[],"finish_reason":"error",\
                "error":"line 3: prompt is empty"}
                {"id":null,"text":null,"token_ids":[],"prompt_token_ids":[],"finish_reason":"error",\
                "error":"line 4: empty line"}
                """, Files.readString(out));
    }

    @Test
    void severalCompletionsAreListedUnderChoicesAfterTheFirstOnesFields() throws IOException {
        Path out = dir.resolve("out.jsonl");
        List<TokenLogprob> top = List.of(new TokenLogprob(5, -0.5f));
        CompletionOutput first = new CompletionOutput("a", new int[] {5}, FinishReason.STOP, Optional.of(List.of(top)));
        CompletionOutput beam = new CompletionOutput("bc", new int[] {6, 7}, FinishReason.LENGTH, Optional.empty(),
                OptionalDouble.of(-1.25));
        try (OutputWriter writer = OutputWriter.open(out, FileFormat.of(out), IdKind.UTF8, false)) {
            writer.write(new OutputRow(Json.MAPPER.readTree("1"), Optional.of("a"), new int[] {5}, new int[] {1},
                    FinishReason.STOP, Optional.of(List.of(top)), Optional.empty(), List.of(first, beam)));
        }
        assertEquals("""
                {"id":1,"text":"a","token_ids":[5],"prompt_token_ids":[1],"finish_reason":"stop",\
                "logprobs":[[{"token_id":5,"logprob":-0.5}]],"choices":[\
                {"text":"a","token_ids":[5],"finish_reason":"stop","logprobs":[[{"token_id":5,"logprob":-0.5}]]},\
                {"text":"bc","token_ids":[6,7],"finish_reason":"length","logprobs":[],"cumulative_logprob":-1.25}],\
                "error":null}
                """, Files.readString(out));
    }
}
