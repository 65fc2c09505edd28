package io.kindling.backend.cpu;

import io.kindling.backend.SampleResult;
import io.kindling.sampling.DrawParams;
import io.kindling.sampling.LogSoftmax;
import io.kindling.sampling.SamplingState;
import io.kindling.sampling.TokenLogprob;
import io.kindling.sampling.TokenRanking;
import io.kindling.structured.TokenBitmask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Picks the next token of one sequence from its logits row. Stateless; per-sequence state is in {@link SamplingState}.
 * The order of operations is vLLM v1's: the structured-output mask, logprobs of the logits, min_tokens and penalties
 * (one {@link LogitAdjustments} list), then argmax when greedy, else temperature, min-p, top-k, top-p and one draw.
 * Arithmetic on logits is float32, as vLLM's tensors are. This is the reference the GPU sampler is tested against.
 */
public final class Sampler {

    /**
     * Applies penalties, min_tokens suppression, temperature, min-p, top-k and top-p, then samples (argmax when
     * greedy). May overwrite {@code logits}. Does not call {@link SamplingState#accept}; the caller does.
     */
    public SampleResult sample(float[] logits, SamplingState state) {
        return sample(logits, DrawParams.of(state, logits.length));
    }

    /** As {@link #sample(float[], SamplingState)}, with the draw's parameters (and uniform) already resolved. */
    public SampleResult sample(float[] logits, DrawParams draw) {
        draw.allowedTokens().ifPresent(mask -> TokenBitmask.apply(mask, logits));
        Optional<List<TokenLogprob>> topLogprobs = draw.logprobs().isPresent()
                ? Optional.of(topLogprobs(logits, draw.logprobs().getAsInt()))
                : Optional.empty();
        draw.adjustments().applyTo(logits);
        int tokenId = draw.isGreedy() ? argmax(logits) : sampleRandom(logits, draw);
        return topLogprobs.isPresent() ? new SampleResult(tokenId, topLogprobs) : SampleResult.of(tokenId);
    }

    /** The {@code k} most likely tokens under {@link LogSoftmax}, best first (ties: lower token id). */
    static List<TokenLogprob> topLogprobs(float[] logits, int k) {
        int count = Math.min(k, logits.length);
        if (count == 0) {
            return List.of();
        }
        LogSoftmax logSoftmax = LogSoftmax.of(logits);
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            keys[i] = TokenRanking.key(logits[i], i);
        }
        TokenRanking.selectBest(keys, 0, keys.length, count);
        Arrays.sort(keys, 0, count);
        List<TokenLogprob> top = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            int tokenId = TokenRanking.tokenId(keys[j]);
            top.add(new TokenLogprob(tokenId, logSoftmax.logprob(logits[tokenId])));
        }
        return top;
    }

    /** The first index of the largest logit, as torch.argmax. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Temperature, min-p, top-k (keeping ties with the k-th logit, as vLLM), top-p (keeping each token whose
     * higher-ranked mass is below p, so the top token always stays), then the uniform {@code draw.u()} inverted over
     * the kept tokens' cumulative probabilities, walked in token id order. The id order is fixed (not best-first
     * even when top-k or top-p ranked the tokens) because the GPU sampler computes the same walk as a prefix sum
     * over the row in id order, without sorting; it also spares sorting the whole vocab here. One known difference:
     * tokens tied with the last token top-p keeps but ranked after it (a higher id) are dropped here, while the GPU,
     * which finds the top-p boundary as a logit threshold, keeps them.
     */
    static int sampleRandom(float[] logits, DrawParams draw) {
        float temperature = draw.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= temperature;
            max = Math.max(max, logits[i]);
        }
        if (!(max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("cannot sample: the largest logit of the row is " + max);
        }
        // min-p: prob / maxProb = exp(logit - max) must reach minP.
        double floor = max + draw.logMinP();
        long[] keys = new long[logits.length];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > Float.NEGATIVE_INFINITY && logits[i] >= floor) {
                keys[n++] = TokenRanking.key(logits[i], i);
            }
        }
        boolean ranked = false;
        int topK = draw.topK();
        if (topK > 0 && topK < n) {
            n = keepTopK(keys, n, topK, logits);
            ranked = true;
        }
        if (draw.topP() < 1) {
            n = keepTopP(keys, n, draw.topP(), logits, max);
            ranked = true;
        }
        int[] kept = new int[n];
        for (int j = 0; j < n; j++) {
            kept[j] = TokenRanking.tokenId(keys[j]);
        }
        if (ranked) {
            Arrays.sort(kept);
        }
        double total = 0;
        for (int tokenId : kept) {
            total += Math.exp(logits[tokenId] - max);
        }
        double target = draw.u() * total;
        double cumulative = 0;
        for (int j = 0; j < n - 1; j++) {
            cumulative += Math.exp(logits[kept[j]] - max);
            if (cumulative > target) {
                return kept[j];
            }
        }
        return kept[n - 1];
    }

    /** Moves the k best keys, and any others tied with the k-th logit, to the front; returns how many. */
    private static int keepTopK(long[] keys, int n, int k, float[] logits) {
        TokenRanking.selectBest(keys, 0, n, k);
        float kth = Float.POSITIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            kth = Math.min(kth, logits[TokenRanking.tokenId(keys[j])]);
        }
        int kept = k;
        for (int j = k; j < n; j++) {
            if (logits[TokenRanking.tokenId(keys[j])] == kth) {
                long t = keys[kept];
                keys[kept++] = keys[j];
                keys[j] = t;
            }
        }
        return kept;
    }

    /**
     * Sorts a best-first prefix of {@code keys[0, n)}, growing it in doubling chunks only as far as the nucleus
     * reaches (a peaked distribution needs a few dozen tokens, not the vocab); returns the nucleus size.
     */
    private static int keepTopP(long[] keys, int n, double topP, float[] logits, float max) {
        double total = 0;
        for (int j = 0; j < n; j++) {
            total += Math.exp(logits[TokenRanking.tokenId(keys[j])] - max);
        }
        double target = topP * total;
        double cumulative = 0;
        int sorted = 0;
        int kept = 0;
        while (kept < n && (kept == 0 || cumulative < target)) {
            if (kept == sorted) {
                int chunk = Math.min(n - sorted, Math.max(64, sorted));
                TokenRanking.selectBest(keys, sorted, n, chunk);
                Arrays.sort(keys, sorted, sorted + chunk);
                sorted += chunk;
            }
            cumulative += Math.exp(logits[TokenRanking.tokenId(keys[kept])] - max);
            kept++;
        }
        return kept;
    }
}
