package io.kindling.sampling;

import io.kindling.structured.ConstraintState;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One draw's parameters resolved on the host: all a sampler needs besides the logits row, so the CPU
 * {@link Sampler} and a device sampler given the same row and the same {@code DrawParams} pick the same token.
 *
 * @param temperature 0 means greedy (params below vLLM's epsilon); otherwise the float32 divisor of the logits
 * @param topK 0 keeps all tokens
 * @param topP 1 keeps all tokens
 * @param logMinP {@code ln(min_p)}, -infinity when min-p is off; a token is kept when its tempered logit is at
 *     least {@code max + logMinP}, in double
 * @param u the uniform in [0, 1) that the draw inverts; 0 and unused when greedy
 * @param logprobs how many top logprobs of the raw (but masked) logits to return, if any
 * @param allowedTokens a structured-output bitmask ({@code TokenBitmask}), applied before everything else
 */
public record DrawParams(float temperature, int topK, double topP, double logMinP, double u, OptionalInt logprobs,
                         LogitAdjustments adjustments, Optional<int[]> allowedTokens) {

    public DrawParams {
        Objects.requireNonNull(logprobs, "logprobs");
        Objects.requireNonNull(adjustments, "adjustments");
        Objects.requireNonNull(allowedTokens, "allowedTokens");
    }

    /** An unconstrained draw. */
    public DrawParams(float temperature, int topK, double topP, double logMinP, double u, OptionalInt logprobs,
                      LogitAdjustments adjustments) {
        this(temperature, topK, topP, logMinP, u, logprobs, adjustments, Optional.empty());
    }

    /**
     * The parameters of {@code state}'s next draw from a row of {@code vocabSize} logits. Takes the draw's uniform
     * from the state's generator unless greedy: call it once per draw, as every sampler does.
     */
    public static DrawParams of(SamplingState state, int vocabSize) {
        return resolve(state, vocabSize, DrawParams::new);
    }

    /**
     * Resolves {@code state}'s next draw as {@link #of} does and hands the parameters to {@code to} instead of making
     * a record of them: a device sampler writes them straight into its parameter buffer, so that a step allocates
     * nothing per draw, and both samplers still resolve by this one definition.
     */
    public static <T> T resolve(SamplingState state, int vocabSize, Resolved<T> to) {
        SamplingParams params = state.params();
        boolean greedy = params.isGreedy();
        return to.accept(greedy ? 0f : (float) params.temperature(), Math.max(params.topK(), 0), params.topP(),
                Math.log(params.minP()), greedy ? 0 : state.random().nextDouble(), params.logprobs(),
                LogitAdjustments.of(state, vocabSize), state.constraint().map(ConstraintState::allowedTokens));
    }

    /** Takes one draw's resolved parameters: the record's components, in its order. */
    @FunctionalInterface
    public interface Resolved<T> {

        T accept(float temperature, int topK, double topP, double logMinP, double u, OptionalInt logprobs,
                 LogitAdjustments adjustments, Optional<int[]> allowedTokens);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
