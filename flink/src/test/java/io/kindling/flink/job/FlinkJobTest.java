package io.kindling.flink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kindling.flink.FlinkModels;
import io.kindling.runtime.BundledModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kindling flink}: the table job's rows against the engine's own outputs, and its exit statuses. */
class FlinkJobTest {

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return FlinkJob.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void everyRowGetsTheEnginesTextInAGeneratedColumn() throws Exception {
        Path input = tmp.resolve("words.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < FlinkModels.WORDS.size(); i++) {
            lines.add("{\"id\": " + i + ", \"word\": \"" + FlinkModels.WORDS.get(i) + "\", \"prompt\": \""
                    + FlinkModels.WORDS.get(i) + ":\"}");
        }
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        assertEquals(0, run("--model", BundledModel.DIR.toString(), "--input", input.toString(), "--output",
                output.toString(), "--parallelism", "2", "--conf", "max-tokens=" + FlinkModels.MAX_TOKENS,
                "--conf", "temperature=0", "--conf", "threads=1", "--conf", "kv-cache-memory=16m"), err.toString());
        assertTrue(out.toString().startsWith("kindling flink: 12 rows in "), out.toString());

        Map<String, String> generated = new TreeMap<>();
        for (JsonNode row : rows(output)) {
            assertEquals(List.of("id", "word", "prompt", "generated"), fieldNames(row));
            assertEquals(FlinkModels.WORDS.get(Integer.parseInt(row.get("id").asText())), row.get("word").asText());
            generated.put(row.get("word").asText(), row.get("generated").asText());
        }
        assertEquals(new TreeMap<>(FlinkModels.engineOutputs(0, 0)), generated);

        assertEquals(1, run("--model", BundledModel.DIR.toString(), "--input", input.toString(), "--output",
                output.toString()));
        assertTrue(err.toString().contains("kindling flink: output " + output + " exists; pass --overwrite"),
                err.toString());
    }

    @Test
    void aSqlScriptRunsWithLlmGenerateLoadedAndPrintsItsQueries() throws Exception {
        Path words = tmp.resolve("words.jsonl");
        List<String> lines = new ArrayList<>();
        for (String w : FlinkModels.WORDS) {
            lines.add("{\"word\": \"" + w + "\", \"prompt\": \"" + w + ":\"}");
        }
        Files.write(words, lines);
        Path output = tmp.resolve("generated");
        Path script = tmp.resolve("job.sql");
        Files.writeString(script, String.join("\n",
                "-- the words, generated greedily into JSON files",
                "SET 'parallelism.default' = '2';",
                "CREATE TEMPORARY TABLE words (word STRING, prompt STRING)",
                "WITH ('connector' = 'filesystem', 'path' = '" + words + "', 'format' = 'json');",
                "CREATE TEMPORARY TABLE generated (word STRING, text STRING)",
                "WITH ('connector' = 'filesystem', 'path' = '" + output + "', 'format' = 'json');",
                "INSERT INTO generated SELECT word, llm_generate(prompt, MAP['temperature', '0']) FROM words;",
                "SELECT COUNT(*) AS rows_written FROM generated;"));
        assertEquals(0, run("--model", BundledModel.DIR.toString(), "--sql", script.toString(), "--conf",
                "max-tokens=" + FlinkModels.MAX_TOKENS, "--conf", "threads=1", "--conf", "kv-cache-memory=16m"),
                err.toString());
        assertTrue(out.toString().contains("rows_written\n" + FlinkModels.WORDS.size() + "\n"), out.toString());
        assertTrue(out.toString().contains("kindling flink: ran 5 statements of " + script), out.toString());
        Map<String, String> generated = new TreeMap<>();
        for (JsonNode row : rows(output)) {
            generated.put(row.get("word").asText(), row.get("text").asText());
        }
        assertEquals(new TreeMap<>(FlinkModels.engineOutputs(0, 0)), generated);
    }

    @Test
    void aBadCommandLineExitsWithTwoAndSaysWhy() {
        assertEquals(2, run("--model", "/m", "--input", "in.jsonl"));
        assertEquals("kindling flink: give --input and --output, or --sql\nTry 'kindling flink --help' for the "
                + "options.\n", err.toString());
        assertEquals(2, run("--model", "/m", "--sql", "x.sql", "--format", "parquet"));
        assertTrue(err.toString().contains("--format parquet: this runner reads and writes jsonl only"));
    }

    private static List<JsonNode> rows(Path output) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        JsonMapper json = JsonMapper.builder().build();
        try (Stream<Path> files = Files.walk(output)) {
            for (Path part : files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString()
                    .startsWith(".")).sorted().toList()) {
                for (String line : Files.readAllLines(part)) {
                    rows.add(json.readTree(line));
                }
            }
        }
        return rows;
    }

    private static List<String> fieldNames(JsonNode row) {
        List<String> names = new ArrayList<>();
        row.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
