package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kindling.spark.job.SparkJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kindling spark} end to end, in this JVM: JSONL and Parquet tables in and out; its error reports. */
class SparkJobTest {

    private static final int ROWS = 12;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SparkSession.Builder LOCAL = SparkTests.session("local[2]");

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void addsTheGeneratedColumnToJsonlAndParquetTablesInInputOrder() throws IOException {
        Path words = dir.resolve("words.jsonl");
        try (Stream<String> lines = Files.lines(SparkTests.WORDS)) {
            Files.write(words, lines.limit(ROWS).toList());
        }
        Path parquetWords = dir.resolve("words.parquet");
        SparkTests.withSession(LOCAL, spark -> {
            spark.read().json(words.toString()).write().parquet(parquetWords.toString());
            return null;
        });

        assertEquals(0, job(words, dir.resolve("out-jsonl"), "--partitions", "3", "--progress-interval", "0.2"),
                err.toString());
        String report = out.toString();
        List<String> progress = err.toString().lines().filter(l -> l.startsWith("kindling spark: ")).toList();
        assertTrue(progress.size() >= 2, err.toString());
        progress.forEach(line -> assertTrue(line.matches("kindling spark: \\d+/" + ROWS
                + " rows, \\d+\\.\\d output tokens/s, 0 errors, \\d+s(, mean batch \\d+\\.\\d)?"), line));
        String last = progress.get(progress.size() - 1);
        assertTrue(last.startsWith("kindling spark: " + ROWS + "/" + ROWS + " rows, ") && !last.contains(" 0.0 output")
                && last.contains(", mean batch "), last);
        assertEquals(0, job(parquetWords, dir.resolve("out-parquet")), err.toString());

        List<JsonNode> jsonl = jsonRows(dir.resolve("out-jsonl"));
        List<String> ids = new ArrayList<>();
        for (JsonNode row : jsonl) {
            ids.add(row.get("id").asText());
        }
        assertEquals(inputIds(words), ids, "output rows in input order");
        Map<String, String> direct = SparkTests.withSession(LOCAL, spark -> SparkTests.byKey(
                SparkTests.words(spark, ROWS).withColumn("text",
                        llm_generate(col("prompt"), Map.of("temperature", "0"))), "id", "text"));
        for (JsonNode row : jsonl) {
            assertEquals(direct.get(row.get("id").asText()), row.get("generated").asText(), row.toString());
        }
        Map<String, String> parquet = SparkTests.withSession(LOCAL, spark -> SparkTests.byKey(
                spark.read().parquet(dir.resolve("out-parquet").toString()), "id", "generated"));
        assertEquals(direct, parquet);

        assertTrue(report.contains("kindling spark: " + ROWS + " rows in "), report);
        assertTrue(report.contains("rows/s"), report);
        assertTrue(report.contains("first rows:\n  " + JSON.writeValueAsString(jsonl.get(0))), report);
    }

    @Test
    void runsTheSqlExampleOnAFewWords() throws IOException {
        Path output = runSqlExample("define_words.sql", "/tmp/kindling-define-words-sql");
        Map<String, String> definitions = SparkTests.withSession(LOCAL, spark -> SparkTests.byKey(
                spark.read().parquet(output.toString()), "id", "definition"));
        assertEquals(Set.copyOf(inputIds(dir.resolve("words.jsonl"))), definitions.keySet());
        definitions.values().forEach(text -> assertTrue(text != null && !text.isBlank(), definitions.toString()));
    }

    @Test
    void runsTheExtractionExampleOnAFewWords() throws IOException {
        Path output = runSqlExample("extract_words.sql", "/tmp/kindling-extract-words-sql");
        List<Row> rows = SparkTests.withSession(LOCAL, spark -> spark.read().parquet(output.toString())
                .select("id", "part_of_speech", "definition", "synonyms").collectAsList());
        assertEquals(3, rows.size());
        for (Row row : rows) {
            for (int field = 0; field < 4; field++) {
                assertFalse(row.isNullAt(field), row.toString()); // typed, and no row in error
            }
        }
    }

    /** Runs {@code examples/sql/<name>} over the first 3 sample words, writing where it writes {@code output}. */
    private Path runSqlExample(String name, String output) throws IOException {
        Path words = dir.resolve("words.jsonl");
        try (Stream<String> lines = Files.lines(SparkTests.WORDS)) {
            Files.write(words, lines.limit(3).toList());
        }
        Path written = dir.resolve("out");
        Path script = dir.resolve(name);
        Files.writeString(script, Files.readString(SparkTests.ROOT.resolve("examples/sql/" + name))
                .replace("examples/data/words.jsonl", words.toString())
                .replace(output, written.toString()));

        assertEquals(0, SparkJob.execute(new PrintWriter(out), new PrintWriter(err), "--model",
                SparkTests.MODEL.toString(), "--sql", script.toString(), "--master", "local[2]"), err.toString());
        assertTrue(out.toString().startsWith("kindling spark: ran 3 statements of " + script), out.toString());
        assertTrue(out.toString().contains("\nfirst rows:\n  {\"id\":"), out.toString());
        return written;
    }

    @Test
    void rowOptionColumnsSetTheirRowsOptionsAsInKindlingGenerate() throws IOException {
        // each word with its own max_tokens and ignore_eos, as JSONL fields of kindling generate
        Path words = dir.resolve("words.jsonl");
        List<String> lines = new ArrayList<>();
        List<String> all = Files.readAllLines(SparkTests.WORDS);
        for (int i = 0; i < 6; i++) {
            ObjectNode row = (ObjectNode) JSON.readTree(all.get(i));
            row.put("max_tokens", 1 + 2 * i).put("ignore_eos", true);
            lines.add(row.toString());
        }
        Files.write(words, lines);
        assertEquals(0, job(words, dir.resolve("out")), err.toString());

        List<JsonNode> rows = jsonRows(dir.resolve("out"));
        assertEquals(6, rows.size());
        Map<String, String> literal = SparkTests.withSession(LOCAL, spark -> {
            Map<String, String> texts = new LinkedHashMap<>();
            for (JsonNode row : rows) {
                texts.put(row.get("id").asText(), SparkTests.words(spark, 6).filter(col("id").equalTo(
                        row.get("id").asText())).select(llm_generate(col("prompt"), Map.of("temperature", "0",
                        "ignoreEos", "true", "maxTokens", row.get("max_tokens").asText()))).first().getString(0));
            }
            return texts;
        });
        for (JsonNode row : rows) {
            assertEquals(literal.get(row.get("id").asText()), row.get("generated").asText(), row.toString());
        }
        assertTrue(rows.get(0).get("generated").asText().length() < rows.get(5).get("generated").asText().length(),
                rows.toString());

        Files.write(words, List.of("{\"id\": \"a\", \"prompt\": \"apple:\", \"n\": 2}"));
        err.getBuffer().setLength(0);
        assertEquals(1, job(words, dir.resolve("out-n")));
        assertEquals("kindling spark: input column 'n' is a row option that kindling generate reads, but a Spark job "
                + "takes it for all rows only: rename or drop the column, and pass --conf spark.kindling.n=VALUE "
                + "instead\n", err.toString());
    }

    @Test
    void aBadCommandLineIsOneLineAndStatusTwo() {
        assertEquals(2, SparkJob.execute(new PrintWriter(out), new PrintWriter(err), "--model",
                SparkTests.MODEL.toString(), "--input", "words.txt", "--output", dir.resolve("o").toString()));
        assertEquals("kindling spark: cannot tell the format of words.txt from its extension '.txt': pass --format"
                + " jsonl, parquet or csv\nTry 'kindling spark --help' for the options.\n", err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void aMissingPromptColumnIsNamed() {
        assertEquals(1, job(SparkTests.WORDS, dir.resolve("o"), "--prompt-column", "text"));
        assertEquals("kindling spark: input " + SparkTests.WORDS + " has no column 'text' (columns: id, prompt);"
                + " pass --prompt-column\n", err.toString());
    }

    @Test
    void aMissingModelIsNamedBeforeSparkStarts() {
        assertEquals(1, SparkJob.execute(new PrintWriter(out), new PrintWriter(err), "--model", "no-such-model",
                "--input", SparkTests.WORDS.toString(), "--output", dir.resolve("o").toString()));
        assertEquals("kindling spark: model directory no-such-model does not exist\n", err.toString());
    }

    private int job(Path input, Path output, String... more) {
        List<String> args = new ArrayList<>(List.of("--model", SparkTests.MODEL.toString(), "--input",
                input.toString(), "--output", output.toString(), "--master", "local[2]",
                "--conf", "spark.kindling.temperature=0",
                "--conf", "spark.kindling.maxTokens=" + SparkTests.MAX_TOKENS,
                "--conf", "spark.kindling.kvCacheMemory=64m",
                "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(more));
        return SparkJob.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
    }

    /** The rows of a JSON output directory, part files in name order. */
    private static List<JsonNode> jsonRows(Path output) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        List<Path> parts;
        try (Stream<Path> files = Files.list(output)) {
            parts = files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
        for (Path part : parts) {
            for (String line : Files.readAllLines(part)) {
                rows.add(JSON.readTree(line));
            }
        }
        return rows;
    }

    private static List<String> inputIds(Path jsonl) throws IOException {
        List<String> ids = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            ids.add(JSON.readTree(line).get("id").asText());
        }
        return ids;
    }
}
