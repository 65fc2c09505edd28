package io.kindling.flink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
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
        err.getBuffer().setLength(0);
        assertEquals(2, run("--model", "/m", "--input", "in.jsonl", "--output", "out", "--format", "orc"));
        assertEquals("kindling flink: unknown format 'orc': use jsonl, parquet or csv\nTry 'kindling flink --help' "
                + "for the options.\n", err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, run("--model", "/m", "--input", "words.txt", "--output", "out"));
        assertTrue(err.toString().startsWith("kindling flink: cannot tell the format of words.txt from its extension "
                + "'.txt': pass --format jsonl, parquet or csv\n"), err.toString());
    }

    @Test
    void aParquetTableComesOutAsParquetWithItsTypesAndTheGeneratedColumn() throws Exception {
        Path input = tmp.resolve("words.parquet");
        MessageType schema = MessageTypeParser.parseMessageType(
                "message words { required int64 id; optional binary word (STRING); optional binary prompt (STRING); }");
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(input)).withType(schema)
                .build()) {
            for (int i = 0; i < FlinkModels.WORDS.size(); i++) {
                writer.write(new SimpleGroupFactory(schema).newGroup().append("id", (long) i)
                        .append("word", FlinkModels.WORDS.get(i)).append("prompt", FlinkModels.WORDS.get(i) + ":"));
            }
        }
        Path output = tmp.resolve("out");
        assertEquals(0, runGreedy(input, output), err.toString());
        assertTrue(out.toString().startsWith("kindling flink: 12 rows in "), out.toString());
        assertTrue(out.toString().strip().endsWith("-> " + output + " (parquet)"), out.toString());

        Map<Long, String> generated = new TreeMap<>();
        for (Path part : TablePaths.parts(output)) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(part.toUri())).build()) {
                for (Group row = reader.read(); row != null; row = reader.read()) {
                    assertEquals("message flink_schema {\n  optional int64 id;\n  optional binary word (STRING);\n"
                            + "  optional binary prompt (STRING);\n  optional binary generated (STRING);\n}\n",
                            row.getType().toString());
                    long id = row.getLong("id", 0);
                    assertEquals(FlinkModels.WORDS.get((int) id), row.getString("word", 0));
                    generated.put(id, row.getString("generated", 0));
                }
            }
        }
        assertEquals(byId(FlinkModels.engineOutputs(0, 0)), generated);
    }

    @Test
    void aCsvTableComesOutAsCsvWithAHeaderOnEveryPart() throws Exception {
        Path input = tmp.resolve("words.csv");
        List<String> lines = new ArrayList<>(List.of("id,word,note,prompt"));
        for (int i = 0; i < FlinkModels.WORDS.size(); i++) {
            // a quoted field with a comma and a quote, which Flink's csv format must read and write back
            lines.add(i + "," + FlinkModels.WORDS.get(i) + ",\"say \"\"" + i + "\"\", twice\"," + FlinkModels.WORDS.get(i)
                    + ":");
        }
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        assertEquals(0, runGreedy(input, output), err.toString());
        assertTrue(out.toString().startsWith("kindling flink: 12 rows in "), out.toString());
        assertTrue(out.toString().strip().endsWith("-> " + output + " (csv)"), out.toString());

        Map<Long, String> generated = new TreeMap<>();
        List<Path> parts = TablePaths.parts(output);
        assertFalse(parts.isEmpty(), "no part files in " + output);
        for (Path part : parts) {
            List<String> partLines = Files.readAllLines(part);
            assertEquals("id,word,note,prompt,generated", partLines.get(0));
            for (String line : partLines.subList(1, partLines.size())) {
                List<String> row = CsvHeader.parse(line);
                long id = Long.parseLong(row.get(0));
                assertEquals(List.of(FlinkModels.WORDS.get((int) id), "say \"" + id + "\", twice",
                        FlinkModels.WORDS.get((int) id) + ":"), row.subList(1, 4));
                generated.put(id, row.get(4));
            }
        }
        assertEquals(byId(FlinkModels.engineOutputs(0, 0)), generated);
    }

    private int runGreedy(Path input, Path output) {
        return run("--model", BundledModel.DIR.toString(), "--input", input.toString(), "--output", output.toString(),
                "--parallelism", "2", "--conf", "max-tokens=" + FlinkModels.MAX_TOKENS, "--conf", "temperature=0",
                "--conf", "threads=1", "--conf", "kv-cache-memory=16m");
    }

    /** The engine's outputs keyed by each word's row id (its index in WORDS). */
    private static Map<Long, String> byId(Map<String, String> byWord) {
        Map<Long, String> byId = new TreeMap<>();
        for (int i = 0; i < FlinkModels.WORDS.size(); i++) {
            byId.put((long) i, byWord.get(FlinkModels.WORDS.get(i)));
        }
        return byId;
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
