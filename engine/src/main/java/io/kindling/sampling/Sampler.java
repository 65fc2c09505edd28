package io.kindling.sampling;

/** Picks the next token of one sequence from its logits row. Stateless; per-sequence state is in {@link SamplingState}. */
public final class Sampler {

    /**
     * Applies penalties, min_tokens suppression, temperature, min-p, top-k and top-p, then samples (argmax when
     * greedy). May overwrite {@code logits}. Does not call {@link SamplingState#accept}; the caller does.
     */
    public SampleResult sample(float[] logits, SamplingState state) {
        throw new UnsupportedOperationException("TODO");
    }
}
