package io.kindling.cli;

import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import picocli.CommandLine.Option;

/**
 * The sampling flags of {@code generate}. Each overrides the model's generation config when given, and is in turn
 * overridden by an input row's own field of the same name. Their help comes from the options catalogue
 * ({@link CatalogueHelp}).
 */
final class SamplingFlags {

    @Option(names = "--max-tokens", paramLabel = "N")
    Integer maxTokens;

    @Option(names = "--temperature", paramLabel = "T")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K")
    Integer topK;

    @Option(names = "--min-p", paramLabel = "P")
    Double minP;

    @Option(names = "--seed", paramLabel = "S")
    Long seed;

    @Option(names = "--logprobs", paramLabel = "K")
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
