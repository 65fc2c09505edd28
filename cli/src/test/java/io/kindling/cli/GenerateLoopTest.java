package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.CompletionOutput;
import io.kindling.core.EngineStats;
import io.kindling.core.FinishReason;
import io.kindling.core.InvalidRequestException;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.TokenLogprob;
import io.kindling.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateLoopTest {

    @TempDir
    Path dir;

    /**
     * Finishes the newest running request each step, so completions arrive in reverse submission order; refuses
     * prompts over 4 tokens as the real engine refuses prompts longer than the context. Its "completion" of a
     * prompt is the prompt's length as one token.
     */
    static final class LifoEngine implements BatchEngine {
        final List<Request> running = new ArrayList<>();
        int maxRunning;
        int steps;

        @Override
        public Tokenizer tokenizer() {
            return null; // token-id prompts never use it
        }

        @Override
        public int maxModelLen() {
            return 5;
        }

        @Override
        public void addRequest(Request request) {
            if (request.promptTokenIds().length > 4) {
                throw new InvalidRequestException(request.requestId(),
                        "prompt of " + request.promptTokenIds().length + " tokens is longer than the context (4)");
            }
            running.add(request);
            maxRunning = Math.max(maxRunning, running.size());
        }

        @Override
        public List<RequestOutput> step() {
            steps++;
            Request r = running.remove(running.size() - 1);
            int length = r.promptTokenIds().length;
            Optional<List<List<TokenLogprob>>> logprobs = r.params().logprobs().isPresent()
                    ? Optional.of(List.of(List.of(new TokenLogprob(length, -0.5f)))) : Optional.empty();
            return List.of(new RequestOutput(r.requestId(), r.promptTokenIds(),
                    new CompletionOutput("n=" + length, new int[] {length}, FinishReason.LENGTH, logprobs),
                    Optional.empty()));
        }

        @Override
        public EngineStats stats() {
            return new EngineStats(running.size(), 0, 0, steps, 0, 10, 10 - running.size(), 16, 4096);
        }
    }

    @Test
    void writesOneRowPerInputLineInInputOrderWithinTheWindow() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, """
                {"id": 0, "prompt_token_ids": [1]}
                {"id": 1, "prompt_token_ids": [1, 2]}
                {"id": 2, "prompt_token_ids": [1, 2
                {"id": 3, "prompt_token_ids": [1, 2, 3, 4, 5]}
                {"id": 4, "prompt_token_ids": [7], "logprobs": 1}

                {"id": 6, "prompt_token_ids": [1, 2, 3]}
                {"id": 7, "prompt_token_ids": [9, 9]}
                """);
        Path out = dir.resolve("out.jsonl");
        LifoEngine engine = new LifoEngine();
        StringWriter progress = new StringWriter();
        GenerateLoop.Summary summary;
        try (InputSource source = InputSource.open(in);
             OutputWriter writer = OutputWriter.open(out, FileFormat.JSONL, IdKind.UTF8, false)) {
            GenerateLoop loop = new GenerateLoop(engine, new RowParser(SamplingParams.greedy(8), 100), writer,
                    new Progress(new PrintWriter(progress), false, source.rowCount(), System::nanoTime), 3, 0);
            summary = loop.run(source);
        }

        assertEquals(new GenerateLoop.Summary(8, 3), summary);
        assertEquals("""
                {"id":0,"text":"n=1","token_ids":[1],"prompt_token_ids":[1],"finish_reason":"length","error":null}
                {"id":1,"text":"n=2","token_ids":[2],"prompt_token_ids":[1,2],"finish_reason":"length","error":null}
                {"id":null,"text":null,"token_ids":[],"prompt_token_ids":[],"finish_reason":"error",\
                "error":"line 3: invalid JSON at column 36: Unexpected end-of-input: expected close marker for Array \
                (start marker at [line: 1, column: 31])"}
                {"id":3,"text":null,"token_ids":[],"prompt_token_ids":[],"finish_reason":"error",\
                "error":"line 4: prompt of 5 tokens is longer than the context (4)"}
                {"id":4,"text":"n=1","token_ids":[1],"prompt_token_ids":[7],"finish_reason":"length",\
                "logprobs":[[{"token_id":1,"logprob":-0.5}]],"error":null}
                {"id":null,"text":null,"token_ids":[],"prompt_token_ids":[],"finish_reason":"error",\
                "error":"line 6: empty line"}
                {"id":6,"text":"n=3","token_ids":[3],"prompt_token_ids":[1,2,3],"finish_reason":"length","error":null}
                {"id":7,"text":"n=2","token_ids":[2],"prompt_token_ids":[9,9],"finish_reason":"length","error":null}
                """, Files.readString(out));
        assertTrue(engine.maxRunning <= 3, "rows in flight: " + engine.maxRunning);
        assertEquals("kindling: 8/8 rows", progress.toString().substring(0, 18));
    }
}
