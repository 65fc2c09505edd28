package io.kindling.model;

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
}
