package io.kindling.sampling;

import io.kindling.structured.StructuredOutput;
import java.io.Serializable;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * Sampling options given on top of the model's defaults ({@code generation_config.json}); null means not set. The
 * CLI's flags and a Spark query's options are both this; in Spark only the executor knows the defaults, so the
 * options travel as overrides.
 */
public record SamplingOverrides(Integer maxTokens, Integer minTokens, Double temperature, Double topP, Integer topK,
                         Double minP, Long seed, List<String> stop, List<Integer> stopTokenIds, Boolean ignoreEos, Double repetitionPenalty,
                         Double presencePenalty, Double frequencyPenalty, Integer logprobs,
                         StructuredOutput structuredOutput)
        implements Serializable {

    public SamplingOverrides {
        stop = stop == null ? null : List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? null : List.copyOf(stopTokenIds);
    }

    /** The options set, as {@code maxTokens=8, temperature=0.0}: for plans. */
    public String describe() {
        List<String> set = new ArrayList<>();
        for (RecordComponent c : getClass().getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(this);
                if (v != null) {
                    set.add(c.getName() + "=" + v);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(", ", set);
    }

    /**
     * {@code defaults} with the overrides applied (a Spark row then replaces the seed with its own, derived one).
     *
     * @throws InvalidSamplingParamException naming the parameter
     */
    public SamplingParams applyTo(SamplingParams defaults) {
        SamplingParams.Builder b = defaults.toBuilder();
        if (maxTokens != null) {
            b.maxTokens(maxTokens);
        }
        if (minTokens != null) {
            b.minTokens(minTokens);
        }
        if (temperature != null) {
            b.temperature(temperature);
        }
        if (topP != null) {
            b.topP(topP);
        }
        if (topK != null) {
            b.topK(topK);
        }
        if (minP != null) {
            b.minP(minP);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (stop != null) {
            b.stop(stop);
        }
        if (stopTokenIds != null) {
            b.stopTokenIds(stopTokenIds);
        }
        if (ignoreEos != null) {
            b.ignoreEos(ignoreEos);
        }
        if (repetitionPenalty != null) {
            b.repetitionPenalty(repetitionPenalty);
        }
        if (presencePenalty != null) {
            b.presencePenalty(presencePenalty);
        }
        if (frequencyPenalty != null) {
            b.frequencyPenalty(frequencyPenalty);
        }
        if (logprobs != null) {
            b.logprobs(logprobs);
        }
        if (structuredOutput != null) {
            b.structuredOutput(structuredOutput);
        }
        return b.build();
    }
}
