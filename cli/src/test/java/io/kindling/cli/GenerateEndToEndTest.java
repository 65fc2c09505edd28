package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/kindling generate} on a real checkpoint: JSONL and Arrow IPC, order kept, bad rows isolated. */
class GenerateEndToEndTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private int generate(String... args) {
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), args);
        assertEquals(0, status, err.toString());
        return status;
    }

    private List<JsonNode> readJsonl(Path path) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(path)) {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }

    @Test
    void tensorParallelSizeReachesTheEngine() throws IOException {
        Path model = Fixtures.checkpoint("llama3-tiny");
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"id\": 0, \"prompt_token_ids\": [128000, 9906, 1917], \"max_tokens\": 16, "
                + "\"logprobs\": 1}"));
        Path out = dir.resolve("out.jsonl");
        generate("generate", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(),
                "--device", "cpu", "--temperature", "0", "--tensor-parallel-size", "2");
        JsonNode row = readJsonl(out).get(0);
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(model).withDevice("cpu")
                .withTensorParallelSize(2))) {
            RequestOutput direct = engine.generate(List.of(new Request("direct", new int[] {128000, 9906, 1917},
                    SamplingParams.builder().temperature(0).maxTokens(16).logprobs(1).build()))).get(0);
            assertArrayEquals(direct.completion().tokenIds(), ints(row.get("token_ids")));
            // the logprobs of the split engine, to the bit: the flag did reach the engine
            assertEquals((float) direct.completion().logprobs().orElseThrow().get(15).get(0).logprob(),
                    (float) row.get("logprobs").get(15).get(0).get("logprob").asDouble());
        }
    }

    @Test
    void aTensorParallelSizeTheModelCannotTakeIsAUsageErrorNamingTheFlag() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"prompt\": \"x\"}"));
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "generate", "--model",
                Fixtures.checkpoint("llama3-tiny").toString(), "--input", in.toString(), "--output",
                dir.resolve("out.jsonl").toString(), "--device", "cpu", "--tensor-parallel-size", "3");
        assertEquals(2, status, err.toString());
        assertEquals("Invalid value for option '--tensor-parallel-size': 3 does not divide num_attention_heads 4 "
                + "(each rank holds whole query heads)", err.toString().lines().findFirst().orElseThrow());
    }

    @Test
    void jsonlRowsComeBackInOrderWithBadLinesAsErrorRows() throws IOException {
        Path model = Fixtures.checkpoint("llama3-tiny");
        String longPrompt = IntStream.range(0, 200).mapToObj(i -> Integer.toString(1000 + i))
                .reduce((a, b) -> a + "," + b).orElseThrow();
        List<String> lines = List.of(
                "{\"id\": 0, \"prompt\": \"The quick brown fox\", \"max_tokens\": 12}",
                "{\"id\": \"one\", \"prompt\": \"Crème brûlée\", \"max_tokens\": 3}",
                "{\"id\": 2, \"prompt\": \"broken",
                "{\"id\": 3, \"prompt_token_ids\": [" + longPrompt + "]}",
                "{\"id\": [4], \"prompt_token_ids\": [128000, 9906, 1917], \"max_tokens\": 20}",
                "{\"id\": 5, \"prompt\": \"x\", \"temperature\": -1}",
                "{\"id\": 6, \"prompt\": \"Last one\", \"max_tokens\": 1}");
        Path in = dir.resolve("in.jsonl");
        Files.write(in, lines);
        Path out = dir.resolve("out.jsonl");
        // 8 blocks of 16 slots: the 200-token prompt cannot fit, the others can.
        generate("generate", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(),
                "--device", "cpu", "--temperature", "0", "--kv-cache-memory", "32k", "--max-num-seqs", "4");

        List<JsonNode> rows = readJsonl(out);
        assertEquals(lines.size(), rows.size());
        assertEquals("[0,\"one\",null,3,[4],5,6]", rows.stream().map(r -> r.get("id").toString()).toList()
                .toString().replace(" ", ""));
        for (int i : new int[] {2, 3, 5}) {
            assertEquals("error", rows.get(i).get("finish_reason").asText(), rows.get(i).toString());
        }
        assertTrue(rows.get(2).get("error").asText().contains("line 3"), rows.get(2).toString());
        assertTrue(rows.get(3).get("error").asText().contains("200 tokens"), rows.get(3).toString());
        assertTrue(rows.get(5).get("error").asText().contains("temperature"), rows.get(5).toString());

        // The rows that succeeded equal the engine called directly on the same prompts.
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(model).withDevice("cpu"))) {
            int[] maxTokens = {12, 3, 0, 0, 20, 0, 1};
            for (int i : new int[] {0, 1, 4, 6}) {
                JsonNode row = rows.get(i);
                int[] prompt = ints(row.get("prompt_token_ids"));
                if (i != 4) {
                    assertArrayEquals(engine.tokenizer().encode(JSON.readTree(lines.get(i)).get("prompt").asText()),
                            prompt);
                }
                RequestOutput direct = engine.generate(List.of(new Request("direct", prompt,
                        SamplingParams.builder().temperature(0).maxTokens(maxTokens[i]).build()))).get(0);
                assertArrayEquals(direct.completion().tokenIds(), ints(row.get("token_ids")), "row " + i);
                assertEquals(direct.completion().text(), row.get("text").asText(), "row " + i);
                assertEquals(direct.completion().finishReason().wireName(), row.get("finish_reason").asText());
                assertTrue(row.get("error").isNull());
            }
        }
    }

    @Test
    void arrowInputAndOutputGiveTheSameRowsAsJsonl() throws IOException {
        Path model = Fixtures.checkpoint("qwen3-tiny");
        // pandas.arrow: ids a, b, c with a text prompt (temperature 0.7, stop "\n"), token ids, and chat messages.
        Path arrowIn = Fixtures.resource("cli/pandas.arrow");
        Path jsonlIn = dir.resolve("same.jsonl");
        Files.write(jsonlIn, List.of(
                "{\"id\": \"a\", \"prompt\": \"Hello\", \"max_tokens\": 8, \"temperature\": 0.7, \"stop\": [\"\\n\"]}",
                "{\"id\": \"b\", \"prompt_token_ids\": [1, 2, 3]}",
                "{\"id\": \"c\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 4}"));
        Path arrowOut = dir.resolve("out.arrow");
        Path jsonlOut = dir.resolve("out.jsonl");
        for (Path[] io : new Path[][] {{arrowIn, arrowOut}, {jsonlIn, jsonlOut}}) {
            generate("generate", "--model", model.toString(), "--input", io[0].toString(), "--output",
                    io[1].toString(), "--device", "cpu", "--seed", "5", "--max-tokens", "6");
        }
        List<JsonNode> expected = readJsonl(jsonlOut);
        try (RootAllocator allocator = new RootAllocator();
             ArrowFileReader reader = new ArrowFileReader(Files.newByteChannel(arrowOut), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            int row = 0;
            while (reader.loadNextBatch()) {
                for (int r = 0; r < root.getRowCount(); r++, row++) {
                    JsonNode want = expected.get(row);
                    assertEquals(want.get("id").asText(), root.getVector("id").getObject(r).toString());
                    assertEquals(want.get("text").asText(), root.getVector("text").getObject(r).toString());
                    assertEquals(want.get("token_ids").toString(),
                            root.getVector("token_ids").getObject(r).toString().replace(" ", ""));
                    assertEquals(want.get("finish_reason").asText(),
                            root.getVector("finish_reason").getObject(r).toString());
                }
            }
            assertEquals(3, row);
        }
        // max_tokens: the row's own value (a: 8, c: 4) over the flag (b: 6).
        assertEquals(List.of(8, 6, 4), expected.stream().map(r -> r.get("token_ids").size()).toList());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
