package io.kindling.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Sampling defaults and EOS ids from {@code generation_config.json}; each field is empty when the file
 * (or the key) is absent. As in vLLM, {@code do_sample} is not consulted: present sampling values apply.
 */
public record GenerationConfig(
        Optional<Double> temperature,
        Optional<Double> topP,
        OptionalInt topK,
        Optional<Double> minP,
        Optional<Double> repetitionPenalty,
        OptionalInt maxNewTokens,
        List<Integer> eosTokenIds) {

    public static GenerationConfig empty() {
        return new GenerationConfig(Optional.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty(),
                Optional.empty(), OptionalInt.empty(), List.of());
    }

    /** Reads {@code generation_config.json}; {@link #empty()} when the file does not exist. */
    static GenerationConfig read(Path file) {
        if (!Files.exists(file)) {
            return empty();
        }
        JsonFile json = JsonFile.read(file);
        return new GenerationConfig(
                json.optionalDouble("temperature"),
                json.optionalDouble("top_p"),
                json.optionalInt("top_k"),
                json.optionalDouble("min_p"),
                json.optionalDouble("repetition_penalty"),
                json.optionalInt("max_new_tokens"),
                json.intOrIntList("eos_token_id"));
    }
}
