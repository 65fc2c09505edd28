package io.kindling.sampling;

import io.kindling.structured.StructuredOutput;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How one request is sampled and when it stops. Field meanings follow vLLM's {@code SamplingParams}.
 *
 * @param temperature 0 (below 1e-5, as vLLM's {@code _SAMPLING_EPS}) means greedy
 * @param topK 0 or -1 means all tokens
 * @param seed seeds the request's own generator, so its tokens do not depend on the rest of the batch; with
 *     {@code n > 1}, sample {@code i} has its own generator seeded with {@code seed + i}
 * @param n how many samples to return; they share the prompt's KV blocks. With beam search: how many beams
 * @param beamWidth 0: sampling; else beam search with this many beams (transformers' {@code num_beams} without
 *     sampling, so temperature, top-k/p, min-p and seed do not apply), returning the best {@code n} beams
 * @param lengthPenalty beam search: a finished beam scores {@code sum_logprobs / generated_len ^ lengthPenalty}
 * @param earlyStopping beam search: when to stop, see {@link EarlyStopping}
 * @param stop stop strings; the matched string is not part of the output text
 * @param logprobs how many top logprobs to return per generated token (computed before any transform but the
 *     structured-output mask), at most {@link #MAX_LOGPROBS}
 * @param structuredOutput what the output must be (a JSON schema, a regex, a choice), if anything
 */
public record SamplingParams(
        int maxTokens,
        int minTokens,
        double temperature,
        double topP,
        int topK,
        double minP,
        OptionalLong seed,
        List<String> stop,
        List<Integer> stopTokenIds,
        boolean ignoreEos,
        OptionalInt logprobs,
        int n,
        double repetitionPenalty,
        double presencePenalty,
        double frequencyPenalty,
        int beamWidth,
        double lengthPenalty,
        EarlyStopping earlyStopping,
        Optional<StructuredOutput> structuredOutput) {

    public static final int DEFAULT_MAX_TOKENS = 16;

    /** vLLM's default {@code max_logprobs}; the GPU sampler returns at most this many. */
    public static final int MAX_LOGPROBS = 20;

    /** Temperatures below this sample greedily (vLLM); dividing float32 logits by them would overflow. */
    static final double GREEDY_TEMPERATURE = 1e-5;

    public SamplingParams {
        Objects.requireNonNull(earlyStopping, "early_stopping");
        Objects.requireNonNull(structuredOutput, "structured_output");
        stop = List.copyOf(stop);
        stopTokenIds = List.copyOf(stopTokenIds);
        check(maxTokens >= 1, "max_tokens", maxTokens, "must be at least 1");
        check(minTokens >= 0 && minTokens <= maxTokens, "min_tokens", minTokens,
                "must be between 0 and max_tokens (" + maxTokens + ")");
        check(temperature >= 0 && Double.isFinite(temperature), "temperature", temperature, "must be >= 0");
        check(topP > 0 && topP <= 1, "top_p", topP, "must be in (0, 1]");
        check(topK == -1 || topK >= 0, "top_k", topK, "must be -1, 0 (all) or positive");
        check(minP >= 0 && minP <= 1, "min_p", minP, "must be in [0, 1]");
        check(logprobs.isEmpty() || (logprobs.getAsInt() >= 0 && logprobs.getAsInt() <= MAX_LOGPROBS), "logprobs",
                logprobs.orElse(0), "must be between 0 and " + MAX_LOGPROBS);
        check(n >= 1, "n", n, "must be at least 1");
        check(repetitionPenalty > 0 && Double.isFinite(repetitionPenalty), "repetition_penalty",
                repetitionPenalty, "must be > 0");
        check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty",
                presencePenalty, "must be in [-2, 2]");
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty",
                frequencyPenalty, "must be in [-2, 2]");
        for (String s : stop) {
            check(s != null && !s.isEmpty(), "stop", null, "stop strings must be non-empty");
        }
        // min_tokens suppresses EOS, which a complete constrained output may be left with alone
        check(minTokens == 0 || structuredOutput.isEmpty(), "min_tokens", null, "is not supported with structured "
                + "output (" + structuredOutput.map(StructuredOutput::kind).orElse("") + ")");
        check(beamWidth >= 0, "beam_width", beamWidth, "must be >= 0 (0: no beam search)");
        check(Double.isFinite(lengthPenalty), "length_penalty", lengthPenalty, "must be finite");
        if (beamWidth > 0) {
            check(n <= beamWidth, "n", n, "beam search returns at most beam_width (" + beamWidth + ") beams");
            String unsupported = !stop.isEmpty() ? "stop" : logprobs.isPresent() ? "logprobs"
                    : minTokens > 0 ? "min_tokens" : repetitionPenalty != 1 ? "repetition_penalty"
                    : presencePenalty != 0 ? "presence_penalty" : frequencyPenalty != 0 ? "frequency_penalty" : null;
            check(unsupported == null, String.valueOf(unsupported), null, "is not supported with beam search");
        }
    }

    /** Whether this request runs beam search rather than sampling. */
    public boolean isBeamSearch() {
        return beamWidth > 0;
    }

    public static SamplingParams greedy(int maxTokens) {
        return builder().maxTokens(maxTokens).build();
    }

    public boolean isGreedy() {
        return temperature < GREEDY_TEMPERATURE;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public static Builder builder() {
        return new Builder(null);
    }

    private static void check(boolean ok, String param, Object value, String requirement) {
        if (!ok) {
            throw new InvalidSamplingParamException(param, value, requirement);
        }
    }

    /** Builder with vLLM's defaults: greedy is {@code temperature(0)}; the default temperature is 1. */
    public static final class Builder {
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private int minTokens;
        private double temperature = 1.0;
        private double topP = 1.0;
        private int topK = 0;
        private double minP;
        private OptionalLong seed = OptionalLong.empty();
        private List<String> stop = List.of();
        private List<Integer> stopTokenIds = List.of();
        private boolean ignoreEos;
        private OptionalInt logprobs = OptionalInt.empty();
        private int n = 1;
        private double repetitionPenalty = 1.0;
        private double presencePenalty;
        private double frequencyPenalty;
        private int beamWidth;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.FALSE;
        private Optional<StructuredOutput> structuredOutput = Optional.empty();

        private Builder(SamplingParams p) {
            if (p != null) {
                maxTokens = p.maxTokens;
                minTokens = p.minTokens;
                temperature = p.temperature;
                topP = p.topP;
                topK = p.topK;
                minP = p.minP;
                seed = p.seed;
                stop = p.stop;
                stopTokenIds = p.stopTokenIds;
                ignoreEos = p.ignoreEos;
                logprobs = p.logprobs;
                n = p.n;
                repetitionPenalty = p.repetitionPenalty;
                presencePenalty = p.presencePenalty;
                frequencyPenalty = p.frequencyPenalty;
                beamWidth = p.beamWidth;
                lengthPenalty = p.lengthPenalty;
                earlyStopping = p.earlyStopping;
                structuredOutput = p.structuredOutput;
            } else {
                temperature = 0.0;
            }
        }

        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder seed(long v) { seed = OptionalLong.of(v); return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder logprobs(int v) { logprobs = OptionalInt.of(v); return this; }
        public Builder n(int v) { n = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder beamWidth(int v) { beamWidth = v; return this; }
        public Builder lengthPenalty(double v) { lengthPenalty = v; return this; }
        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }
        public Builder structuredOutput(StructuredOutput v) { structuredOutput = Optional.of(v); return this; }

        public SamplingParams build() {
            return new SamplingParams(maxTokens, minTokens, temperature, topP, topK, minP, seed, stop, stopTokenIds,
                    ignoreEos, logprobs, n, repetitionPenalty, presencePenalty, frequencyPenalty, beamWidth,
                    lengthPenalty, earlyStopping, structuredOutput);
        }
    }
}
