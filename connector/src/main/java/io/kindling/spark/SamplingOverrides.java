package io.kindling.spark;

import io.kindling.sampling.SamplingParams;
import java.io.Serializable;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * The sampling options a query set (null: not set). They apply on top of the model's defaults
 * ({@code generation_config.json}), which only the executor knows, so they travel as overrides.
 */
record SamplingOverrides(Integer maxTokens, Integer minTokens, Double temperature, Double topP, Integer topK,
                         Double minP, Long seed, List<String> stop, Boolean ignoreEos, Double repetitionPenalty,
                         Double presencePenalty, Double frequencyPenalty) implements Serializable {

    SamplingOverrides {
        stop = stop == null ? null : List.copyOf(stop);
    }

    /** The options set, as {@code maxTokens=8, temperature=0.0}: for plans. */
    String describe() {
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
     * {@code defaults} with the overrides applied; the seed is left to the caller, which derives each row's own.
     *
     * @throws io.kindling.sampling.InvalidSamplingParamException naming the parameter
     */
    SamplingParams applyTo(SamplingParams defaults) {
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
        if (stop != null) {
            b.stop(stop);
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
        return b.build();
    }
}
