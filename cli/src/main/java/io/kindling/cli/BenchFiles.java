package io.kindling.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kindling.core.Request;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code kindling bench} writes for other tools: the workload, so the Hugging Face baseline
 * ({@code benchmarks/hf_baseline.py}) runs exactly the same prompts, and the measured numbers as JSON.
 */
final class BenchFiles {

    private BenchFiles() {
    }

    /** One JSON line per request, in submission order: request_id, prompt_token_ids, output_len. */
    static void saveWorkload(Path file, List<Request> requests) {
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            for (Request r : requests) {
                ObjectNode line = Json.MAPPER.createObjectNode();
                line.put("request_id", r.requestId());
                line.putArray("prompt_token_ids")
                        .addAll(Arrays.stream(r.promptTokenIds()).mapToObj(line::numberNode).toList());
                line.put("output_len", r.params().maxTokens());
                out.write(Json.MAPPER.writeValueAsString(line));
                out.newLine();
            }
        } catch (IOException e) {
            throw CliException.io("write workload", file, e);
        }
    }

    /** The run's figures as one JSON object, rates per second. */
    static void saveResult(Path file, BenchCommand.Result result, String model, String device, String workload) {
        ObjectNode json = Json.MAPPER.createObjectNode();
        json.put("model", model);
        json.put("device", device);
        json.put("workload", workload);
        json.put("requests", result.requests());
        json.put("prompt_tokens", result.promptTokens());
        json.put("output_tokens", result.outputTokens());
        json.put("elapsed_s", result.seconds());
        json.put("requests_per_s", result.requests() / result.seconds());
        json.put("output_tokens_per_s", result.outputTokens() / result.seconds());
        json.put("total_tokens_per_s", (result.promptTokens() + result.outputTokens()) / result.seconds());
        json.put("preemptions", result.preemptions());
        json.put("mean_batch_size", result.meanBatch());
        if (result.decodeStep().steps() > 0) {
            json.put("decode_step_ms", result.decodeStep().millis());
            json.put("decode_step_batch", result.decodeStep().batch());
        }
        json.put("kv_blocks_peak", result.kv().peakUsedBlocks());
        json.put("kv_blocks_total", result.numBlocks());
        json.put("block_size", result.blockSize());
        json.put("computed_prompt_tokens", result.computedPromptTokens());
        try {
            Files.writeString(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
        } catch (IOException e) {
            throw CliException.io("write results", file, e);
        }
    }
}
