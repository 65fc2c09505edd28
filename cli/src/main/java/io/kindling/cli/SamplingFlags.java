package io.kindling.cli;

import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import picocli.CommandLine.Option;

/**
 * The sampling flags of {@code generate}. Each overrides the model's generation config when given, and is in turn
 * overridden by an input row's own field of the same name.
 */
final class SamplingFlags {

    @Option(names = "--max-tokens", paramLabel = "N", description = "Most tokens to generate per row (default: 16).")
    Integer maxTokens;

    @Option(names = "--temperature", paramLabel = "T",
            description = "0 is greedy (default: the model's generation_config.json).")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass in (0, 1].")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens; 0 = all.")
    Integer topK;

    @Option(names = "--min-p", paramLabel = "P", description = "Drop tokens below P times the top probability.")
    Double minP;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of each row's own generator.")
    Long seed;

    @Option(names = "--logprobs", paramLabel = "K", description = "Return the top-K logprobs of each generated token.")
    Integer logprobs;

    /**
     * {@code defaults} with the given flags applied.
     *
     * @throws InvalidSamplingParamException naming the parameter, whose flag {@link #flag} spells
     */
    SamplingParams applyTo(SamplingParams defaults) {
        return new SamplingOverrides(maxTokens, null, temperature, topP, topK, minP, seed, null, null, null, null, null,
                null, logprobs, null).applyTo(defaults);
    }

    /** The flag of a sampling parameter: {@code top_p} is {@code --top-p}. */
    static String flag(String param) {
        return "--" + param.replace('_', '-');
    }
}
