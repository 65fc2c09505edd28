package io.kindling.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.DrawParams;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.LogitAdjustments;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.sampling.TokenLogprob;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int[] NO_TOKENS = {};
    private final Sampler sampler = new Sampler();

    @Test
    void greedyTakesFirstMaxOnTies() {
        SamplingState state = state(SamplingParams.greedy(4));
        assertEquals(1, sampler.sample(new float[] {1f, 3f, 3f, 2f}, state).tokenId());
        assertEquals(0, sampler.sample(new float[] {7f, 7f, 7f}, state).tokenId());
    }

    @Test
    void temperatureBelowEpsilonIsGreedy() {
        SamplingParams params = SamplingParams.builder().temperature(1e-6).seed(3).build();
        assertTrue(params.isGreedy());
        assertEquals(2, sampler.sample(new float[] {1f, 3f, 3.5f, 2f}, state(params)).tokenId());
    }

    @Test
    void logprobsAreTopKOfDoublePrecisionLogSoftmax() {
        float[] logits = gaussianLogits(152_064, 3f, new Random(11));
        logits[7000] = 20f; // a tie at the top: the lower id comes first
        logits[300] = 20f;
        logits[151_000] = Float.NEGATIVE_INFINITY;
        double[] expected = doubleLogSoftmax(logits);
        Integer[] order = IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -expected[i]).thenComparingInt(i -> i))
                .toArray(Integer[]::new);

        List<TokenLogprob> top = sampler.sample(logits.clone(), state(SamplingParams.builder().logprobs(20).build()))
                .topLogprobs().orElseThrow();

        assertEquals(20, top.size());
        assertEquals(300, top.get(0).tokenId());
        assertEquals(7000, top.get(1).tokenId());
        for (int j = 0; j < 20; j++) {
            assertEquals((int) order[j], top.get(j).tokenId(), "rank " + j);
            assertEquals(expected[order[j]], top.get(j).logprob(), 1e-5, "rank " + j);
        }
    }

    @Test
    void logprobsAboveVllmsMaximumAreRejected() {
        SamplingParams.builder().logprobs(SamplingParams.MAX_LOGPROBS).build();
        InvalidSamplingParamException e = assertThrows(InvalidSamplingParamException.class,
                () -> SamplingParams.builder().logprobs(SamplingParams.MAX_LOGPROBS + 1).build());
        // the parameter, the value and the requirement are fields: front ends compose their own message from them
        assertEquals("logprobs", e.param());
        assertEquals(SamplingParams.MAX_LOGPROBS + 1, e.value());
        assertEquals("must be between 0 and " + SamplingParams.MAX_LOGPROBS, e.requirement());
        assertEquals("invalid logprobs: must be between 0 and 20, got 21", e.getMessage());
    }

    @Test
    void logprobsComeFromRawLogitsBeforeAnyTransform() {
        float[] logits = gaussianLogits(500, 2f, new Random(5));
        List<TokenLogprob> raw = Sampler.topLogprobs(logits.clone(), 5);
        SamplingParams transformed = SamplingParams.builder().temperature(0.3).topK(3).repetitionPenalty(1.7)
                .frequencyPenalty(1).minTokens(1).logprobs(5).seed(1).build();
        SamplingState state = new SamplingState(transformed, new int[] {raw.get(0).tokenId()},
                new int[] {raw.get(1).tokenId()}, 0);
        state.accept(raw.get(2).tokenId());

        assertEquals(Optional.of(raw), sampler.sample(logits.clone(), state).topLogprobs());
    }

    @Test
    void logprobsZeroIsPresentButEmptyAndAbsentWhenNotAsked() {
        float[] logits = {0f, 1f};
        assertEquals(Optional.of(List.of()),
                sampler.sample(logits.clone(), state(SamplingParams.builder().logprobs(0).build())).topLogprobs());
        assertEquals(Optional.empty(), sampler.sample(logits.clone(), state(SamplingParams.greedy(1))).topLogprobs());
    }

    @Test
    void topKOneAndTinyTopPSampleTheArgmax() {
        Random random = new Random(17);
        for (int seed = 0; seed < 50; seed++) {
            float[] logits = gaussianLogits(1000, 4f, random);
            int argmax = Sampler.argmax(logits);
            SamplingParams topK = SamplingParams.builder().temperature(1.5).topK(1).seed(seed).build();
            SamplingParams topP = SamplingParams.builder().temperature(1.5).topP(1e-6).seed(seed).build();
            assertEquals(argmax, sampler.sample(logits.clone(), state(topK)).tokenId(), "top_k=1, seed " + seed);
            assertEquals(argmax, sampler.sample(logits.clone(), state(topP)).tokenId(), "top_p=1e-6, seed " + seed);
        }
    }

    @Test
    void topKKeepsTiesWithTheKthLogitAsVllm() {
        float[] logits = {3f, 1f, 2f, 2f, 0f};
        SamplingParams params = SamplingParams.builder().temperature(1).topK(2).seed(9).build();
        double[] frequencies = frequencies(params, logits, 20_000);
        double z = Math.exp(3) + 2 * Math.exp(2);
        assertArrayEquals(new double[] {Math.exp(3) / z, 0, Math.exp(2) / z, Math.exp(2) / z, 0}, frequencies, 0.012);
    }

    @Test
    void sampledFrequenciesFollowTheRestrictedSoftmax() {
        float[] logits = {2f, 1.5f, 1f, 0.5f, 0f, -1f};
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0.5).seed(1).build(),
                SamplingParams.builder().temperature(2.0).seed(2).build(),
                SamplingParams.builder().temperature(0.7).topK(4).topP(0.9).seed(3).build(),
                SamplingParams.builder().temperature(1.0).topP(0.75).seed(4).build(),
                SamplingParams.builder().temperature(1.0).minP(0.2).seed(5).build());
        for (SamplingParams params : cases) {
            assertArrayEquals(expectedDistribution(logits, params), frequencies(params, logits, 20_000), 0.012,
                    params.toString());
        }
    }

    @Test
    void minPDropsTokensBelowItsShareOfTheTopProbability() {
        // probs 0.5, 0.3, 0.15, 0.05: min_p 0.2 keeps prob >= 0.1.
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        double[] frequencies = frequencies(SamplingParams.builder().temperature(1).minP(0.2).seed(8).build(), logits,
                20_000);
        assertEquals(0.0, frequencies[3]);
        assertArrayEquals(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, frequencies, 0.012);
    }

    @Test
    void sameSeedRepeatsTheSequenceAndOtherSeedsDiffer() {
        float[] logits = gaussianLogits(50, 1f, new Random(23));
        SamplingParams seeded = SamplingParams.builder().temperature(1).seed(42).build();
        List<Integer> first = generate(new SamplingState(seeded, NO_TOKENS, NO_TOKENS, 1), logits, 100);
        List<Integer> again = generate(new SamplingState(seeded, NO_TOKENS, NO_TOKENS, 2), logits, 100);
        List<Integer> fallback = generate(
                new SamplingState(seeded.toBuilder().seed(0).build(), NO_TOKENS, NO_TOKENS, 42), logits, 100);
        SamplingParams unseeded = SamplingParams.builder().temperature(1).build();
        List<Integer> fromFallback = generate(new SamplingState(unseeded, NO_TOKENS, NO_TOKENS, 42), logits, 100);
        List<Integer> otherFallback = generate(new SamplingState(unseeded, NO_TOKENS, NO_TOKENS, 43), logits, 100);

        assertEquals(first, again, "the request's seed wins over the fallback");
        assertNotEquals(first, fallback);
        assertEquals(first, fromFallback, "without a seed, the fallback seeds the generator");
        assertNotEquals(first, otherFallback);
    }

    @Test
    void penaltiesProduceVllmLogits() {
        SamplingParams params = SamplingParams.builder().repetitionPenalty(2).frequencyPenalty(0.5)
                .presencePenalty(0.25).build();
        SamplingState state = new SamplingState(params, new int[] {1, 2}, NO_TOKENS, 0);
        state.accept(2);
        state.accept(3);
        state.accept(3);
        float[] logits = {1f, 2f, -1f, 0.5f, 4f};

        LogitAdjustments.of(state, logits.length).applyTo(logits);

        // 0: untouched; 1: prompt only, repetition only; 2: -1*2 - 0.5*1 - 0.25; 3: 0.5/2 - 0.5*2 - 0.25; 4: untouched
        assertArrayEquals(new float[] {1f, 1f, -2.75f, -1f, 4f}, logits);
    }

    @Test
    void adjustmentsListSuppressionAndPenaltiesByTokenIdUntilMinTokensIsReached() {
        SamplingParams params = SamplingParams.builder().maxTokens(8).minTokens(1).stopTokenIds(List.of(6, 50))
                .repetitionPenalty(1.5).presencePenalty(0.5).build();
        SamplingState state = new SamplingState(params, new int[] {4, 1}, new int[] {2}, 0);

        LogitAdjustments before = LogitAdjustments.of(state, 10);
        assertArrayEquals(new int[] {1, 2, 4, 6}, before.tokenIds(), "id 50 is past the row");
        assertArrayEquals(new boolean[] {true, false, true, false}, before.repeated());
        assertArrayEquals(new float[] {0f, Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY}, before.additive());

        state.accept(4);
        LogitAdjustments after = LogitAdjustments.of(state, 10);
        assertArrayEquals(new int[] {1, 4}, after.tokenIds(), "min_tokens reached: EOS and stop ids are free");
        assertArrayEquals(new float[] {0f, -0.5f}, after.additive());
    }

    @Test
    void finalDrawWalksKeptTokensInIdOrderEvenWhenTopKRankedThem() {
        // top_k 2 keeps ids 0 (p = 0.269) and 1 (p = 0.731): in id order u = 0.1 lands on id 0, best-first it would
        // land on id 1.
        float[] logits = {1f, 2f, -5f};
        for (double u : new double[] {0.1, 0.25}) {
            assertEquals(0, sampler.sample(logits.clone(), draw(2, 1, u)).tokenId(), "u " + u);
        }
        for (double u : new double[] {0.28, 0.9}) {
            assertEquals(1, sampler.sample(logits.clone(), draw(2, 1, u)).tokenId(), "u " + u);
        }
        // top_p 0.9 keeps the same two; the walk is in id order too
        assertEquals(0, sampler.sample(logits.clone(), draw(0, 0.9, 0.1)).tokenId());
    }

    private static DrawParams draw(int topK, double topP, double u) {
        return new DrawParams(1f, topK, topP, Double.NEGATIVE_INFINITY, u, OptionalInt.empty(),
                LogitAdjustments.of(state(SamplingParams.builder().temperature(1).build()), 3));
    }

    @Test
    void frequencyPenaltyFlipsTheGreedyChoice() {
        SamplingParams plain = SamplingParams.greedy(8);
        SamplingParams penalised = plain.toBuilder().frequencyPenalty(0.5).build();
        SamplingState plainState = new SamplingState(plain, NO_TOKENS, NO_TOKENS, 0);
        SamplingState penalisedState = new SamplingState(penalised, NO_TOKENS, NO_TOKENS, 0);
        for (int i = 0; i < 3; i++) {
            plainState.accept(0);
            penalisedState.accept(0);
        }
        assertEquals(0, sampler.sample(new float[] {5f, 4f}, plainState).tokenId());
        assertEquals(1, sampler.sample(new float[] {5f, 4f}, penalisedState).tokenId(), "5 - 3 * 0.5 < 4");
    }

    @Test
    void minTokensBlocksEosAndStopTokensUntilReached() {
        SamplingParams params = SamplingParams.builder().maxTokens(8).minTokens(2).stopTokenIds(List.of(3))
                .ignoreEos(true).build();
        SamplingState state = new SamplingState(params, NO_TOKENS, new int[] {4, 99}, 0);
        float[] logits = {0f, 1f, 8f, 9f, 10f};
        List<Integer> tokens = generate(state, logits, 3);
        assertEquals(List.of(2, 2, 4), tokens);
    }

    @Test
    void randomSamplingOfAFullyMaskedRowIsAnError() {
        float[] logits = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        SamplingState state = state(SamplingParams.builder().temperature(1).seed(0).build());
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits, state));
    }

    private static SamplingState state(SamplingParams params) {
        return new SamplingState(params, NO_TOKENS, NO_TOKENS, 0);
    }

    private List<Integer> generate(SamplingState state, float[] logits, int steps) {
        List<Integer> tokens = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            int token = sampler.sample(logits.clone(), state).tokenId();
            state.accept(token);
            tokens.add(token);
        }
        return tokens;
    }

    private double[] frequencies(SamplingParams params, float[] logits, int draws) {
        SamplingState state = state(params);
        double[] counts = new double[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(logits.clone(), state).tokenId()]++;
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] /= draws;
        }
        return counts;
    }

    /** softmax(logits / T), then min-p, top-k and top-p by their definitions, in double. */
    private static double[] expectedDistribution(float[] logits, SamplingParams params) {
        int n = logits.length;
        double[] probs = new double[n];
        double z = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(logits[i] / params.temperature());
            z += probs[i];
        }
        double maxProb = 0;
        for (int i = 0; i < n; i++) {
            probs[i] /= z;
            maxProb = Math.max(maxProb, probs[i]);
        }
        Integer[] byProb = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -probs[i])).toArray(Integer[]::new);
        boolean[] kept = new boolean[n];
        int k = params.topK() > 0 ? params.topK() : n;
        double keptMass = 0;
        for (int r = 0; r < k; r++) {
            kept[byProb[r]] = probs[byProb[r]] >= params.minP() * maxProb;
            keptMass += kept[byProb[r]] ? probs[byProb[r]] : 0;
        }
        double before = 0;
        for (int r = 0; r < n; r++) {
            int i = byProb[r];
            if (kept[i]) {
                kept[i] = before / keptMass < params.topP();
                before += probs[i];
            }
        }
        double mass = 0;
        for (int i = 0; i < n; i++) {
            mass += kept[i] ? probs[i] : 0;
        }
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            expected[i] = kept[i] ? probs[i] / mass : 0;
        }
        return expected;
    }

    private static double[] doubleLogSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        double logSum = Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - max - logSum;
        }
        return out;
    }

    private static float[] gaussianLogits(int vocab, float scale, Random random) {
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) random.nextGaussian() * scale;
        }
        return logits;
    }
}
