package io.kindling.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Picks the next token of one sequence from its logits row. Stateless; per-sequence state is in {@link SamplingState}.
 * The order of operations is vLLM v1's: logprobs of the raw logits, min_tokens, penalties, then argmax when greedy,
 * else temperature, min-p, top-k, top-p and one draw. Arithmetic on logits is float32, as vLLM's tensors are.
 */
public final class Sampler {

    /**
     * Applies penalties, min_tokens suppression, temperature, min-p, top-k and top-p, then samples (argmax when
     * greedy). May overwrite {@code logits}. Does not call {@link SamplingState#accept}; the caller does.
     */
    public SampleResult sample(float[] logits, SamplingState state) {
        SamplingParams params = state.params();
        Optional<List<TokenLogprob>> topLogprobs = params.logprobs().isPresent()
                ? Optional.of(topLogprobs(logits, params.logprobs().getAsInt()))
                : Optional.empty();
        suppressStopTokens(logits, state);
        applyPenalties(logits, state);
        int tokenId = params.isGreedy() ? argmax(logits) : sampleRandom(logits, params, state.random());
        return new SampleResult(tokenId, topLogprobs);
    }

    /**
     * The {@code k} most likely tokens under log_softmax(logits), best first (ties: lower token id). The sum of the
     * log-sum-exp is accumulated in double, so it is at least as accurate as torch's float32 log_softmax (which sums
     * in float lanes); the two agree to ~1e-6 at a 152k vocab.
     */
    static List<TokenLogprob> topLogprobs(float[] logits, int k) {
        int count = Math.min(k, logits.length);
        if (count == 0) {
            return List.of();
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        double logSum = Math.log(sum);
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            keys[i] = TokenRanking.key(logits[i], i);
        }
        TokenRanking.selectBest(keys, 0, keys.length, count);
        Arrays.sort(keys, 0, count);
        List<TokenLogprob> top = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            int tokenId = TokenRanking.tokenId(keys[j]);
            top.add(new TokenLogprob(tokenId, (float) ((logits[tokenId] - max) - logSum)));
        }
        return top;
    }

    /**
     * min_tokens: until that many tokens are generated, EOS and the stop token ids cannot be sampled (vLLM masks
     * them whatever ignore_eos says). An id past the logits row cannot be sampled anyway, so it is skipped.
     */
    static void suppressStopTokens(float[] logits, SamplingState state) {
        if (state.numOutputTokens() >= state.params().minTokens()) {
            return;
        }
        for (int tokenId : state.eosTokenIds()) {
            mask(logits, tokenId);
        }
        for (int tokenId : state.params().stopTokenIds()) {
            mask(logits, tokenId);
        }
    }

    private static void mask(float[] logits, int tokenId) {
        if (tokenId >= 0 && tokenId < logits.length) {
            logits[tokenId] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Repetition penalty over prompt and output tokens (HF/vLLM: positive logits divided, others multiplied), then
     * frequency ({@code count * f}) and presence ({@code p} once) penalties over output tokens only (OpenAI/vLLM).
     */
    static void applyPenalties(float[] logits, SamplingState state) {
        SamplingParams params = state.params();
        float repetition = (float) params.repetitionPenalty();
        if (repetition != 1f) {
            var seen = state.promptAndOutputTokens();
            for (int id = seen.nextSetBit(0); id >= 0 && id < logits.length; id = seen.nextSetBit(id + 1)) {
                logits[id] = logits[id] > 0 ? logits[id] / repetition : logits[id] * repetition;
            }
        }
        float frequency = (float) params.frequencyPenalty();
        float presence = (float) params.presencePenalty();
        if (frequency != 0f || presence != 0f) {
            state.outputTokenCounts().forEach((id, count) -> {
                logits[id] -= frequency * count;
                logits[id] -= presence;
            });
        }
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
     * higher-ranked mass is below p, so the top token always stays), then one uniform draw inverted over the kept
     * tokens' cumulative probabilities. The walk order is best-first when top-k or top-p ranked the tokens and token
     * id order otherwise (which spares sorting the whole vocab); either way the token is a function of the logits
     * and the generator's state alone.
     */
    static int sampleRandom(float[] logits, SamplingParams params, RandomGenerator random) {
        float temperature = (float) params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= temperature;
            max = Math.max(max, logits[i]);
        }
        if (!(max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("cannot sample: the largest logit of the row is " + max);
        }
        // min-p: prob / maxProb = exp(logit - max) must reach minP.
        double floor = params.minP() > 0 ? max + Math.log(params.minP()) : Double.NEGATIVE_INFINITY;
        long[] keys = new long[logits.length];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > Float.NEGATIVE_INFINITY && logits[i] >= floor) {
                keys[n++] = TokenRanking.key(logits[i], i);
            }
        }
        boolean ranked = false;
        int topK = params.topK();
        if (topK > 0 && topK < n) {
            n = keepTopK(keys, n, topK, logits);
            ranked = true;
        }
        if (params.topP() < 1) {
            n = keepTopP(keys, n, params.topP(), logits, max);
        } else if (ranked) {
            Arrays.sort(keys, 0, n);
        }
        double total = 0;
        for (int j = 0; j < n; j++) {
            total += Math.exp(logits[TokenRanking.tokenId(keys[j])] - max);
        }
        double target = random.nextDouble() * total;
        double cumulative = 0;
        for (int j = 0; j < n - 1; j++) {
            int tokenId = TokenRanking.tokenId(keys[j]);
            cumulative += Math.exp(logits[tokenId] - max);
            if (cumulative > target) {
                return tokenId;
            }
        }
        return TokenRanking.tokenId(keys[n - 1]);
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
