package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a failed, killed or hostile run must not cost: the previous output, the good rows of a file with bad bytes,
 * a row's honest finish reason, a readable first line of stderr. Each test reproduces a failure of issue 13.
 */
class DataSafetyTest {

    static final Path MODEL = Fixtures.checkpoint("mistral-tiny");

    @TempDir
    Path dir;

    final StringWriter err = new StringWriter();

    int run(String... args) {
        return Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), args);
    }

    String[] generate(Path in, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", MODEL.toString(), "--input", in.toString(),
                "--output", out.toString(), "--device", "cpu", "--temperature", "0", "--max-tokens", "3"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    static List<JsonNode> rows(Path jsonl) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            rows.add(Json.MAPPER.readTree(line));
        }
        return rows;
    }

    @Test
    void anInvalidUtf8LineIsOneErrorRowNamingItsLineAndTheOthersAreServed() throws IOException {
        // was: "cannot read ... after line 0: Input length = 1", exit 1, no rows
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("{\"id\": 1, \"prompt_token_ids\": [1, 330]}\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"id\": 2, \"prompt\": \"caf".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {(byte) 0xE9, '"', '}', '\n'}); // Latin-1 é
        bytes.writeBytes("{\"id\": 3, \"prompt\": \"café\"}\n".getBytes(StandardCharsets.UTF_8));
        Path in = dir.resolve("in.jsonl");
        Files.write(in, bytes.toByteArray());
        Path out = dir.resolve("out.jsonl");

        assertEquals(0, run(generate(in, out)), err.toString());
        List<JsonNode> rows = rows(out);
        assertEquals(3, rows.size());
        assertTrue(rows.get(0).get("error").isNull() && rows.get(2).get("error").isNull(), rows.toString());
        assertEquals("line 2: not valid UTF-8 (byte 25 of the line)", rows.get(1).get("error").asText());
        assertTrue(rows.get(1).get("id").isNull());
        assertEquals(3, rows.get(2).get("id").asInt());
    }

    @Test
    void lineNumbersArePhysicalLinesWhateverCarriageReturnsALineHolds() throws IOException {
        // a lone \r inside a line is JSON whitespace; readLine() split there, so later rows named the wrong line
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"id\": 1,\r \"prompt_token_ids\": [1, 330]}\r\n{\"id\": 2, \"prompt\": \"\"}\n"
                + "{\"id\": 3 \"prompt\": \"x\"}\n");
        Path out = dir.resolve("out.jsonl");

        assertEquals(0, run(generate(in, out)), err.toString());
        List<JsonNode> rows = rows(out);
        assertEquals(3, rows.size());
        assertTrue(rows.get(0).get("error").isNull(), rows.get(0).toString());
        assertEquals("line 2: prompt is empty", rows.get(1).get("error").asText());
        assertTrue(rows.get(2).get("error").asText().startsWith("line 3: invalid JSON at column 10"),
                rows.get(2).toString());
    }

    @Test
    void aFailedRunLeavesThePreviousOutputAsItWas() throws IOException {
        // was: the output truncated to 0 bytes by a run that then failed to load its model
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt_token_ids\": [1, 330]}\n");
        Path out = dir.resolve("out.jsonl");
        Files.writeString(out, "previous output\n");

        String[] badModel = generate(in, out, "--overwrite");
        badModel[2] = dir.resolve("no-such-model").toString();
        assertEquals(1, run(badModel));
        assertEquals(2, run(generate(in, out, "--overwrite", "--kv-cache-memory", "1000")));
        assertEquals("previous output\n", Files.readString(out));
        assertFalse(Files.exists(dir.resolve("out.jsonl.partial")));
    }

    @Test
    void anExistingOutputIsReplacedOnlyWithOverwrite() throws IOException {
        // was: silently overwritten
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt_token_ids\": [1, 330]}\n");
        Path out = dir.resolve("out.jsonl");
        Files.writeString(out, "previous output\n");

        assertEquals(2, run(generate(in, out)));
        assertEquals("Invalid value for option '--output': " + out + " exists; add --overwrite to replace it",
                err.toString().lines().findFirst().orElseThrow());
        assertEquals("previous output\n", Files.readString(out));

        assertEquals(0, run(generate(in, out, "--overwrite")), err.toString());
        assertEquals(1, rows(out).size());
        assertFalse(Files.exists(dir.resolve("out.jsonl.partial")));
    }

    @Test
    void aKvCacheTooSmallForTheFlagIsAUsageErrorNamingIt() throws IOException {
        // was: "kindling: cannot load model ...: kv_cache_memory 1000 bytes is less than one KV block", exit 1
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt_token_ids\": [1, 330]}\n");
        assertEquals(2, run(generate(in, dir.resolve("out.jsonl"), "--kv-cache-memory", "1000")));
        assertEquals("Invalid value for option '--kv-cache-memory': a KV cache of 1000 bytes is less than one KV "
                + "block (1024 bytes for block_size 16)", err.toString().lines().findFirst().orElseThrow());
    }

    @Test
    void aRowThatCannotFitTheKvCacheAloneIsAnErrorNotACutShortLength() throws IOException {
        // was: 16 tokens asked, 10 returned with finish_reason "length" (one block of 16 slots, prompt of 6)
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, """
                {"id": "fits", "prompt_token_ids": [1, 330, 331, 332, 333, 334], "max_tokens": 10, "ignore_eos": true}
                {"id": "long", "prompt_token_ids": [1, 330, 331, 332, 333, 334], "max_tokens": 16}
                {"id": "n4", "prompt_token_ids": [1, 330, 331, 332, 333, 334], "max_tokens": 16, "n": 4}
                """);
        Path out = dir.resolve("out.jsonl");
        assertEquals(0, run(generate(in, out, "--kv-cache-memory", "1k")), err.toString()); // one block
        List<JsonNode> rows = rows(out);
        assertEquals("length", rows.get(0).get("finish_reason").asText());
        assertEquals(10, rows.get(0).get("token_ids").size());
        String tooLong = "a sequence of up to 22 tokens (prompt 6 tokens, max_tokens 16) needs 2 KV blocks of 16 "
                + "tokens, but the KV cache has 1; raise kv_cache_memory (--kv-cache-memory, Spark: kvCacheMemory) "
                + "or lower max_tokens";
        for (int i : new int[] {1, 2}) {
            assertEquals("error", rows.get(i).get("finish_reason").asText());
            assertEquals("line " + (i + 1) + ": " + tooLong, rows.get(i).get("error").asText());
            assertEquals(0, rows.get(i).get("token_ids").size());
        }
    }

    @Test
    void aPromptTooLongForTheContextByItsBytesAloneIsRefusedUntokenized() throws IOException {
        // was: a 10 MB prompt tokenized whole (3.2 M tokens, 30 s) before "prompt has 3200000 tokens"
        Path model = copyModel(dir.resolve("short-context"), config -> config.replace("\"max_position_embeddings\": 32768",
                "\"max_position_embeddings\": 512"));
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt\": \"" + "many words ".repeat(200_000) + "\"}\n{\"prompt\": \"ok\"}\n");
        Path out = dir.resolve("out.jsonl");
        String[] args = generate(in, out);
        args[2] = model.toString();
        assertEquals(0, run(args), err.toString());
        List<JsonNode> rows = rows(out);
        // 2,200,000 bytes over at most 48 bytes a token (16 × "▁", the longest token)
        assertEquals("line 1: prompt is 2200000 bytes, so at least 45834 tokens, more than the 511 that fit the "
                + "model's context", rows.get(0).get("error").asText());
        assertTrue(rows.get(1).get("error").isNull(), rows.get(1).toString());
    }

    /** A copy of the test model with its config.json edited. */
    static Path copyModel(Path target, java.util.function.UnaryOperator<String> editConfig) throws IOException {
        Files.createDirectories(target);
        try (var files = Files.list(MODEL)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, target.resolve(f.getFileName()));
            }
        }
        Path config = target.resolve("config.json");
        String edited = editConfig.apply(Files.readString(config));
        assertFalse(edited.equals(Files.readString(config)), "config.json unchanged");
        Files.writeString(config, edited);
        return target;
    }

    @Test
    void theDeviceProbeSaysNothingUnlessVerbose() throws IOException {
        // was: two date-stamped java.util.logging lines ending in UnsatisfiedLinkError on every CPU run
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt_token_ids\": [1, 330]}\n");
        List<LogRecord> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger("io.kindling");
        logger.addHandler(capture);
        try {
            String[] auto = generate(in, dir.resolve("out.jsonl"));
            auto[8] = "auto"; // --device auto: this module has no CUDA backend, so the probe falls back to the CPU
            assertEquals(0, run(auto), err.toString());
            assertEquals(List.of(), logged.stream().map(LogRecord::getMessage).toList());
            assertTrue(err.toString().startsWith("kindling: "), err.toString());

            auto = generate(in, dir.resolve("out2.jsonl"), "--verbose");
            auto[8] = "auto";
            assertEquals(0, run(auto), err.toString());
            assertEquals(1, logged.size());
            assertTrue(logged.get(0).getMessage().startsWith("device auto: running on the CPU because"));
        } finally {
            logger.removeHandler(capture);
            Main.quietEngineLogs(false);
        }
    }

    @Test
    void aModelWithoutTokenizerJsonServesTokenIdsAndRefusesTextRows() throws IOException {
        // was: "cannot load model ...: no tokenizer.json", exit 1
        Path model = dir.resolve("ids-only");
        Files.createDirectories(model);
        try (var files = Files.list(MODEL)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().startsWith("tokenizer")) {
                    Files.copy(f, model.resolve(f.getFileName()));
                }
            }
        }
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, """
                {"id": 1, "prompt_token_ids": [1, 330, 331]}
                {"id": 2, "prompt": "hello"}
                {"id": 3, "messages": [{"role": "user", "content": "hi"}]}
                {"id": 4, "prompt_token_ids": [1, 330], "stop": ["x"]}
                """);
        Path out = dir.resolve("out.jsonl");
        String[] args = generate(in, out);
        args[2] = model.toString();
        assertEquals(0, run(args), err.toString());

        List<JsonNode> rows = rows(out);
        assertEquals("length", rows.get(0).get("finish_reason").asText());
        assertEquals(3, rows.get(0).get("token_ids").size());
        assertEquals("[1,330,331]", rows.get(0).get("prompt_token_ids").toString());
        String noTokenizer = "the model has no tokenizer.json, so prompts must be token ids (prompt_token_ids)";
        assertEquals("line 2: " + noTokenizer, rows.get(1).get("error").asText());
        assertEquals("line 3: " + noTokenizer, rows.get(2).get("error").asText());
        assertEquals("line 4: stop strings need the model's tokenizer.json, which it does not have; give "
                + "stop_token_ids instead", rows.get(3).get("error").asText());
    }
}
