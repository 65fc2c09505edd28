package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.Request;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kindling bench --random-weights} end to end on the CPU: a shape alone, no weight or tokenizer files. */
class BenchRandomWeightsTest {

    private static final String SHAPE = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "head_dim": 8, "intermediate_size": 32,
             "max_position_embeddings": 512, "num_attention_heads": 2, "num_hidden_layers": 1,
             "num_key_value_heads": 1, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
             "tie_word_embeddings": true, "vocab_size": 300, "eos_token_id": 1, "torch_dtype": "bfloat16"}""";

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int bench(String... args) {
        List<String> all = new ArrayList<>(List.of("bench", "--device", "cpu", "--threads", "1",
                "--kv-cache-memory", "4m", "--random-weights"));
        all.addAll(List.of(args));
        return Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
    }

    private Path shape() throws IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, SHAPE);
        return config;
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(Json.MAPPER.readTree(line));
        }
        return lines;
    }

    @Test
    void savesTheExactWorkloadAndTheFigures() throws IOException {
        Path workload = dir.resolve("workload.jsonl");
        Path json = dir.resolve("result.json");
        int status = bench("--model", shape().toString(), "--num-prompts", "5", "--input-len", "7",
                "--output-len", "3", "--seed", "9", "--save-workload", workload.toString(),
                "--json-out", json.toString());
        assertEquals(0, status, err.toString());

        // the same requests the command builds from its seed, in order
        BenchCommand bench = new BenchCommand();
        new CommandLine(bench).parseArgs("--model", "m", "--input-len", "7", "--output-len", "3");
        Random random = new Random(9);
        List<Request> expected = BenchCommand.requests("bench-", bench.shapes(5, random), 0, 300, random);
        List<JsonNode> lines = jsonLines(workload);
        assertEquals(5, lines.size());
        for (int i = 0; i < 5; i++) {
            JsonNode line = lines.get(i);
            assertEquals("bench-" + i, line.get("request_id").asText());
            int[] ids = new int[line.get("prompt_token_ids").size()];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = line.get("prompt_token_ids").get(t).intValue();
            }
            assertArrayEquals(expected.get(i).promptTokenIds(), ids);
            assertEquals(3, line.get("output_len").intValue());
        }

        JsonNode result = Json.MAPPER.readTree(json.toFile());
        assertEquals(5, result.get("requests").intValue());
        assertEquals(35, result.get("prompt_tokens").intValue());
        assertEquals(15, result.get("output_tokens").intValue(), "ignore_eos: every request makes its output_len");
        double elapsed = result.get("elapsed_s").doubleValue();
        assertTrue(elapsed > 0);
        assertEquals(15 / elapsed, result.get("output_tokens_per_s").doubleValue(), 1e-6 * 15 / elapsed);
        assertEquals(50 / elapsed, result.get("total_tokens_per_s").doubleValue(), 1e-6 * 50 / elapsed);
        assertEquals(5 / elapsed, result.get("requests_per_s").doubleValue(), 1e-6 * 5 / elapsed);
        assertTrue(result.get("kv_blocks_peak").intValue() > 0);
        assertTrue(result.get("kv_blocks_peak").intValue() <= result.get("kv_blocks_total").intValue());
        assertEquals(0, result.get("preemptions").intValue());
        String device = result.get("device").asText();
        assertTrue(device.startsWith("cpu (1 thread"), device);
        assertTrue(out.toString().contains("Device: " + device + "\n"), out.toString());
        assertTrue(out.toString().contains("random weights"), out.toString());
    }

    @Test
    void theWideMixSavesEachRequestsOwnLengthsFromADirectory() throws IOException {
        shape();
        Path workload = dir.resolve("wide.jsonl");
        int status = bench("--model", dir.toString(), "--dataset", "wide", "--wide-min", "2", "--wide-max", "12",
                "--num-prompts", "6", "--save-workload", workload.toString());
        assertEquals(0, status, err.toString());
        BenchCommand bench = new BenchCommand();
        new CommandLine(bench).parseArgs("--model", "m", "--dataset", "wide", "--wide-min", "2", "--wide-max", "12");
        List<BenchCommand.Shape> shapes = bench.shapes(6, new Random(0));
        List<JsonNode> lines = jsonLines(workload);
        assertEquals(6, lines.size());
        long outputTokens = 0;
        for (int i = 0; i < 6; i++) {
            assertEquals(shapes.get(i).inputLen(), lines.get(i).get("prompt_token_ids").size());
            assertEquals(shapes.get(i).outputLen(), lines.get(i).get("output_len").intValue());
            outputTokens += shapes.get(i).outputLen();
        }
        assertTrue(out.toString().contains("+ " + outputTokens + " output tokens"), out.toString());
    }

    @Test
    void aMissingShapeIsOneLineNamingTheFile() {
        int status = bench("--model", dir.resolve("nowhere.json").toString());
        assertEquals(1, status);
        assertTrue(err.toString().startsWith("kindling: cannot load model shape "), err.toString());
        assertTrue(err.toString().contains("nowhere.json: file not found"), err.toString());
    }
}
