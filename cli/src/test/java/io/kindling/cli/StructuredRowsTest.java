package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate} with structured-output rows on the bundled model: {@code response_format} as OpenAI spells it
 * (a schema, json_object), {@code guided_regex}, {@code guided_choice}; JSON rows gain {@code parsed}; a bad
 * constraint or two constraints make an error row; a row cut short says so.
 */
class StructuredRowsTest {

    static final Path MODEL = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath().normalize();
    static final String SCHEMA = "{\"type\": \"object\", \"properties\": {\"part_of_speech\": {\"enum\": [\"noun\","
            + " \"verb\", \"adjective\"]}, \"definition\": {\"type\": \"string\", \"maxLength\": 40}}, \"required\":"
            + " [\"part_of_speech\", \"definition\"], \"additionalProperties\": false}";

    @TempDir
    Path dir;

    @Test
    void constrainedRowsComeBackValidAndJsonRowsParsed() throws IOException {
        List<String> lines = List.of(
                "{\"id\": 0, \"prompt\": \"lighthouse:\", \"max_tokens\": 64, \"response_format\": {\"type\": "
                        + "\"json_schema\", \"json_schema\": {\"name\": \"word\", \"schema\": " + SCHEMA + "}}}",
                "{\"id\": 1, \"prompt\": \"battle:\", \"max_tokens\": 48, \"n\": 2, \"temperature\": 1, \"seed\": 3,"
                        + " \"response_format\": {\"type\": \"json_object\"}}",
                "{\"id\": 2, \"prompt\": \"bishop:\", \"max_tokens\": 8, \"guided_regex\": \"[A-Z][a-z]+ [0-9]{2}\"}",
                "{\"id\": 3, \"prompt\": \"baize:\", \"guided_choice\": [\"noun\", \"verb\"]}",
                "{\"id\": 4, \"prompt\": \"x:\", \"response_format\": {\"type\": \"json_schema\", \"json_schema\": "
                        + "{\"schema\": {\"type\": \"string\", \"pattern\": \"a+\"}}}}",
                "{\"id\": 5, \"prompt\": \"x:\", \"guided_regex\": \"a\", \"guided_choice\": [\"a\"]}",
                "{\"id\": 6, \"prompt\": \"alkali:\", \"max_tokens\": 3, \"response_format\": " + SCHEMA + "}");
        Path in = dir.resolve("in.jsonl");
        Files.write(in, lines);
        Path out = dir.resolve("out.jsonl");
        generate(in, out);
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            rows.add(GenerateEndToEndTest.JSON.readTree(line));
        }
        JsonNode word = rows.get(0);
        assertTrue(word.get("error").isNull(), word.toString());
        assertEquals(GenerateEndToEndTest.JSON.readTree(word.get("text").asText()), word.get("parsed"));
        assertTrue(Set.of("noun", "verb", "adjective").contains(word.get("parsed").get("part_of_speech").asText()),
                word.toString());
        JsonNode objects = rows.get(1);
        assertEquals(2, objects.get("choices").size(), objects.toString());
        for (JsonNode choice : objects.get("choices")) {
            assertTrue(choice.get("parsed").isObject(), objects.toString());
        }
        assertTrue(rows.get(2).get("text").asText().matches("[A-Z][a-z]+ [0-9]{2}"), rows.get(2).toString());
        assertTrue(rows.get(2).get("parsed") == null, "no parsed field for a regex row");
        assertTrue(Set.of("noun", "verb").contains(rows.get(3).get("text").asText()), rows.get(3).toString());
        assertEquals("error", rows.get(4).get("finish_reason").asText());
        assertTrue(rows.get(4).get("error").asText().contains("keyword 'pattern' is not supported"),
                rows.get(4).toString());
        assertEquals("error", rows.get(5).get("finish_reason").asText());
        assertTrue(rows.get(5).get("error").asText().contains("at most one of"), rows.get(5).toString());
        JsonNode cut = rows.get(6); // three tokens cannot hold the shortest document of the schema
        assertEquals("length", cut.get("finish_reason").asText(), cut.toString());
        assertTrue(cut.get("error").asText().contains("before it was a complete json_schema match"), cut.toString());
        assertTrue(cut.get("parsed").isNull(), cut.toString());

        Path arrow = dir.resolve("out.arrow");
        generate(in, arrow);
        try (RootAllocator allocator = new RootAllocator();
             ArrowFileReader reader = new ArrowFileReader(Files.newByteChannel(arrow), allocator)) {
            reader.loadNextBatch();
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            assertEquals(word.get("parsed").toString(), root.getVector("parsed").getObject(0).toString());
            assertTrue(root.getVector("parsed").isNull(2), "a regex row has no parsed document");
            assertTrue(root.getVector("parsed").isNull(6), "nor has a row cut short");
        }
    }

    private static void generate(Path in, Path out) {
        StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "generate",
                "--model", MODEL.toString(), "--input", in.toString(), "--output", out.toString(), "--device", "cpu",
                "--temperature", "0"), err.toString());
    }
}
