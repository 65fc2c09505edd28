package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.kindling.core.CompletionOutput;
import io.kindling.core.FinishReason;
import io.kindling.sampling.TokenLogprob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArrowOutputTest {

    @TempDir
    Path dir;

    /** Row i: completed rows with i tokens; every third asks logprobs; every fifth failed. */
    private static OutputRow row(int i, boolean textIds) {
        var id = textIds ? TextNode.valueOf("r" + i) : LongNode.valueOf(i);
        if (i % 5 == 4) {
            return OutputRow.failed(id, "line " + (i + 1) + ": prompt is empty");
        }
        int[] tokens = new int[i % 7];
        List<List<TokenLogprob>> logprobs = new ArrayList<>();
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = 100 + t;
            logprobs.add(List.of(new TokenLogprob(tokens[t], -0.5f * t), new TokenLogprob(3, -2f - t)));
        }
        return new OutputRow(id, Optional.of("text é " + i), tokens, new int[] {1, i}, FinishReason.LENGTH,
                i % 3 == 0 ? Optional.of(logprobs) : Optional.empty(), Optional.empty());
    }

    /** Every row of an Arrow output as the Java values Arrow reads back, column by column. */
    private static List<Map<String, Object>> readBack(Path path, boolean stream, IdKind idKind) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (RootAllocator allocator = new RootAllocator();
             ArrowReader reader = stream ? new ArrowStreamReader(Files.newInputStream(path), allocator)
                     : new ArrowFileReader(Files.newByteChannel(path), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            assertEquals(ArrowOutput.schema(idKind), root.getSchema());
            int batches = 0;
            while (reader.loadNextBatch()) {
                batches++;
                for (int r = 0; r < root.getRowCount(); r++) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (FieldVector v : root.getFieldVectors()) {
                        Object value = v.getObject(r);
                        row.put(v.getName(), value == null ? null : value.toString());
                    }
                    rows.add(row);
                }
            }
            assertEquals((rows.size() + ArrowOutput.BATCH_ROWS - 1) / ArrowOutput.BATCH_ROWS, batches);
        }
        return rows;
    }

    @Test
    void fileRoundTripOverSeveralBatches() throws IOException {
        Path out = dir.resolve("out.arrow");
        int n = 2 * ArrowOutput.BATCH_ROWS + 17;
        try (OutputWriter writer = OutputWriter.open(out, FileFormat.of(out), IdKind.INT64, false)) {
            for (int i = 0; i < n; i++) {
                writer.write(row(i, false));
            }
        }
        List<Map<String, Object>> rows = readBack(out, false, IdKind.INT64);
        assertEquals(n, rows.size());

        assertEquals(Map.of("id", "3", "text", "text é 3", "token_ids", "[100,101,102]",
                "prompt_token_ids", "[1,3]", "finish_reason", "length",
                "logprobs", "[[{\"token_id\":100,\"logprob\":-0.0},{\"token_id\":3,\"logprob\":-2.0}],"
                        + "[{\"token_id\":101,\"logprob\":-0.5},{\"token_id\":3,\"logprob\":-3.0}],"
                        + "[{\"token_id\":102,\"logprob\":-1.0},{\"token_id\":3,\"logprob\":-4.0}]]"),
                withoutNulls(rows.get(3)));
        assertNull(rows.get(3).get("error"));
        assertNull(rows.get(1).get("logprobs"));

        Map<String, Object> failed = rows.get(2049);
        assertEquals("2049", failed.get("id"));
        assertNull(failed.get("text"));
        assertEquals("[]", failed.get("token_ids"));
        assertEquals("[]", failed.get("prompt_token_ids"));
        assertEquals("error", failed.get("finish_reason"));
        assertEquals("line 2050: prompt is empty", failed.get("error"));

        for (int i = 0; i < n; i++) {
            assertEquals(String.valueOf(i), rows.get(i).get("id"));
        }
        // row 2046 is the last of the second batch with logprobs asked (2046 % 3 == 0), 2046 % 7 = 2 tokens
        assertTrue(rows.get(2046).get("logprobs").toString().startsWith("[[{\"token_id\":100"));
    }

    @Test
    void streamFormatWithTextIds() throws IOException {
        Path out = dir.resolve("out.arrows");
        try (OutputWriter writer = OutputWriter.open(out, FileFormat.of(out), IdKind.UTF8, false)) {
            for (int i = 0; i < 6; i++) {
                writer.write(row(i, true));
            }
        }
        List<Map<String, Object>> rows = readBack(out, true, IdKind.UTF8);
        assertEquals(6, rows.size());
        assertEquals("r5", rows.get(5).get("id"));
        assertEquals("[1,5]", rows.get(5).get("prompt_token_ids"));
        assertEquals("error", rows.get(4).get("finish_reason"));
        assertEquals("[]", rows.get(0).get("token_ids"));
        assertEquals("[100]", rows.get(1).get("token_ids"));
    }

    @Test
    void choicesAsJsonlListsThemAcrossBatches() throws IOException {
        List<TokenLogprob> top = List.of(new TokenLogprob(5, -0.5f));
        CompletionOutput sample0 = new CompletionOutput("a", new int[] {5}, FinishReason.STOP,
                Optional.of(List.of(top)));
        CompletionOutput sample1 = new CompletionOutput("bé", new int[] {6, 7}, FinishReason.LENGTH,
                Optional.of(List.of(top, top)));
        CompletionOutput beam0 = new CompletionOutput("xy", new int[] {8, 2}, FinishReason.STOP, Optional.empty(),
                OptionalDouble.of(-1.25));
        CompletionOutput beam1 = new CompletionOutput("", new int[] {9}, FinishReason.LENGTH, Optional.empty(),
                OptionalDouble.of(-2.5));
        Path out = dir.resolve("out.arrow");
        int n = ArrowOutput.BATCH_ROWS + 6;
        try (OutputWriter writer = OutputWriter.open(out, FileFormat.of(out), IdKind.INT64, false)) {
            for (int i = 0; i < n; i++) {
                var id = LongNode.valueOf(i);
                writer.write(switch (i % 4) {
                    case 0 -> new OutputRow(id, Optional.of("a"), new int[] {5}, new int[] {1}, FinishReason.STOP,
                            Optional.of(List.of(top)), Optional.empty(), List.of(sample0, sample1));
                    case 1 -> new OutputRow(id, Optional.of("xy"), new int[] {8, 2}, new int[] {1}, FinishReason.STOP,
                            Optional.empty(), Optional.empty(), List.of(beam0, beam1));
                    case 2 -> OutputRow.failed(id, "line " + (i + 1) + ": prompt is empty");
                    default -> row(i, false);
                });
            }
        }
        List<Map<String, Object>> rows = readBack(out, false, IdKind.INT64);
        assertEquals(n, rows.size());
        String samples = "[{\"text\":\"a\",\"token_ids\":[5],\"finish_reason\":\"stop\","
                + "\"logprobs\":[[{\"token_id\":5,\"logprob\":-0.5}]]},"
                + "{\"text\":\"bé\",\"token_ids\":[6,7],\"finish_reason\":\"length\","
                + "\"logprobs\":[[{\"token_id\":5,\"logprob\":-0.5}],[{\"token_id\":5,\"logprob\":-0.5}]]}]";
        // Arrow leaves null struct fields out: the beams' logprobs were not asked.
        String beams = "[{\"text\":\"xy\",\"token_ids\":[8,2],\"finish_reason\":\"stop\","
                + "\"cumulative_logprob\":-1.25},"
                + "{\"text\":\"\",\"token_ids\":[9],\"finish_reason\":\"length\",\"cumulative_logprob\":-2.5}]";
        for (int i = 0; i < n; i++) {
            Object choices = rows.get(i).get("choices");
            switch (i % 4) {
                case 0 -> assertEquals(samples, choices, "row " + i);
                case 1 -> assertEquals(beams, choices, "row " + i);
                default -> assertNull(choices, "row " + i);
            }
        }
        assertEquals("xy", rows.get(ArrowOutput.BATCH_ROWS + 1).get("text"));
        assertEquals("[[{\"token_id\":5,\"logprob\":-0.5}]]", rows.get(ArrowOutput.BATCH_ROWS).get("logprobs"));
    }

    private static Map<String, Object> withoutNulls(Map<String, Object> row) {
        Map<String, Object> copy = new HashMap<>(row);
        copy.values().removeIf(Objects::isNull);
        return copy;
    }
}
