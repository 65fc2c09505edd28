package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kindling.backend.cpu.HostLogits;
import io.kindling.backend.Draw;
import io.kindling.sampling.DrawParams;
import io.kindling.backend.SampleResult;
import io.kindling.backend.cpu.Sampler;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.sampling.TokenLogprob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.IntStream;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * kd_sample against the CPU {@link Sampler} on the same rows with the same uniforms (each draw's CPU and GPU
 * states are seeded alike). Greedy tokens and top-K logprob ids must be equal; a random draw must be equal unless
 * moving u by 1e-5 (relative) already changes the CPU's token, i.e. u * total sits at a CDF boundary where the two
 * summation orders may round apart; those draws are counted and must land between the two CPU tokens.
 */
class SamplerGpuTest {

    private static final double BOUNDARY = 1e-5;
    private static final int ROWS = 3;
    private static final int SEEDS = 4;
    /** Below the draws of one call, so calls also run in several launches. */
    private static final int MAX_DRAWS = 64;

    /** A sampling mode (SamplerBench's too); {@code penalised} modes also get penalties and min_tokens here. */
    record Mode(String name, SamplingParams params) {
    }

    private static final List<Mode> MODES = List.of(
            new Mode("greedy", SamplingParams.greedy(16)),
            new Mode("greedy+logprobs20", SamplingParams.builder().maxTokens(16).logprobs(20).build()),
            new Mode("greedy+penalties", penalised(SamplingParams.builder().maxTokens(16).logprobs(5))),
            new Mode("t=1", SamplingParams.builder().maxTokens(16).temperature(1).build()),
            new Mode("t=0.7,k=50", SamplingParams.builder().maxTokens(16).temperature(0.7).topK(50).build()),
            new Mode("k=1", SamplingParams.builder().maxTokens(16).temperature(1).topK(1).build()),
            new Mode("p=0.9", SamplingParams.builder().maxTokens(16).temperature(1).topP(0.9).build()),
            new Mode("t=1.3,p=0.3", SamplingParams.builder().maxTokens(16).temperature(1.3).topP(0.3).build()),
            new Mode("min_p=0.05", SamplingParams.builder().maxTokens(16).temperature(1).minP(0.05).build()),
            new Mode("min_p=0.5,k=1000", SamplingParams.builder().maxTokens(16).temperature(1).minP(0.5).topK(1000)
                    .build()),
            new Mode("t=0.8,k=100,p=0.8,min_p=0.02,logprobs3", SamplingParams.builder().maxTokens(16).temperature(0.8)
                    .topK(100).topP(0.8).minP(0.02).logprobs(3).build()),
            new Mode("t=0.9,p=0.95+penalties", penalised(SamplingParams.builder().maxTokens(16).temperature(0.9)
                    .topP(0.95))));

    /** The radix select's edges: top-k far below and above the candidates, top-p near 0 and 1, 1 to 20 logprobs. */
    private static final List<Mode> EDGE_MODES = List.of(
            new Mode("t=1,k=100000", SamplingParams.builder().maxTokens(16).temperature(1).topK(100_000).build()),
            new Mode("t=1,k=262144", SamplingParams.builder().maxTokens(16).temperature(1).topK(262_144).build()),
            new Mode("t=1,p=0.999", SamplingParams.builder().maxTokens(16).temperature(1).topP(0.999).build()),
            new Mode("t=1,p=0.01", SamplingParams.builder().maxTokens(16).temperature(1).topP(0.01).build()),
            new Mode("t=1.5,k=1000,p=0.5", SamplingParams.builder().maxTokens(16).temperature(1.5).topK(1000)
                    .topP(0.5).build()),
            new Mode("t=1,logprobs1", SamplingParams.builder().maxTokens(16).temperature(1).logprobs(1).build()),
            new Mode("t=1,logprobs2", SamplingParams.builder().maxTokens(16).temperature(1).logprobs(2).build()),
            new Mode("t=1,p=0.9,logprobs7", SamplingParams.builder().maxTokens(16).temperature(1).topP(0.9)
                    .logprobs(7).build()),
            new Mode("greedy+logprobs13", SamplingParams.builder().maxTokens(16).logprobs(13).build()),
            new Mode("t=0.5,k=20,logprobs20", SamplingParams.builder().maxTokens(16).temperature(0.5).topK(20)
                    .logprobs(20).build()));

    private static SamplingParams penalised(SamplingParams.Builder b) {
        return b.repetitionPenalty(1.3).frequencyPenalty(0.5).presencePenalty(0.25).minTokens(8).build();
    }

    private final Sampler cpu = new Sampler();

    @BeforeEach
    void requireGpu() {
        assumeTrue(CudaTestSupport.available(), "no GPU: " + CudaTestSupport.whyUnavailable());
    }

    @Test
    void everyModeMatchesTheCpuSampler() {
        for (int vocab : new int[] {128_256, 32_000}) {
            for (boolean peaked : new boolean[] {true, false}) {
                float[] values = distinctRows(ROWS, vocab, peaked, vocab + (peaked ? 1 : 0));
                compareModes(vocab, peaked ? "peaked" : "flat", values, MODES, true);
            }
        }
    }

    /**
     * Rows at the radix select's edges, in every mode and {@link #EDGE_MODES}: every token in one bin of the first pass
     * (logits within 1/64 of each other), half the row masked in a vocab that is not a multiple of 32, a vocab below
     * a CTA's threads (most warps read nothing), and heavy ties (without top-p, whose ties differ from the CPU by
     * design: {@link #topPKeepsEveryTokenTiedWithItsBoundary}).
     */
    @Test
    void edgeRowsAndModesMatchTheCpuSampler() {
        List<Mode> all = new ArrayList<>(MODES);
        all.addAll(EDGE_MODES);
        List<Mode> withoutTopP = all.stream().filter(m -> m.params().topP() == 1).toList();
        compareModes(128_256, "narrow", narrowRows(ROWS, 128_256, 21), all, false);
        compareModes(50_257, "half masked", maskedRows(ROWS, 50_257, 22), all, false);
        compareModes(77, "tiny", distinctRows(ROWS, 77, true, 23), all, false);
        compareModes(128_256, "tied", tiedRows(ROWS, 128_256, 24, 8), withoutTopP, false);
    }

    private void compareModes(int vocab, String shape, float[] values, List<Mode> modeList,
            boolean penaltiesMustMatter) {
        List<Draw> draws = new ArrayList<>();
        List<SamplingState> cpuStates = new ArrayList<>();
        List<Mode> modes = new ArrayList<>();
        for (Mode mode : modeList) {
            for (int row = 0; row < ROWS; row++) {
                float[] logits = Arrays.copyOfRange(values, row * vocab, (row + 1) * vocab);
                for (int seed = 0; seed < SEEDS; seed++) {
                    SamplingParams params = mode.params().toBuilder().seed(1000L * row + seed).build();
                    draws.add(new Draw(row, state(params, logits)));
                    cpuStates.add(state(params, logits));
                    modes.add(mode);
                }
            }
        }
        try (DeviceBuffer buffer = DeviceBuffer.allocate((long) values.length * Float.BYTES).copyFrom(values);
             GpuSampler sampler = newSampler(MAX_DRAWS, vocab)) {
            sampler.poisonResults();
            long start = System.nanoTime();
            SampleResult[] got = sampler.sample(new DeviceRows(buffer, ROWS, vocab), draws);
            double millis = (System.nanoTime() - start) / 1e6;

            int exact = 0;
            int boundary = 0;
            int changedByPenalties = 0;
            double maxLogprobError = 0;
            for (int i = 0; i < draws.size(); i++) {
                String what = shape + ", " + modes.get(i).name() + ", draw " + i + ", row " + draws.get(i).row();
                float[] row = Arrays.copyOfRange(values, draws.get(i).row() * vocab, (draws.get(i).row() + 1) * vocab);
                DrawParams params = DrawParams.of(cpuStates.get(i), vocab);
                SampleResult want = cpu.sample(row.clone(), params);
                if (params.isGreedy()) {
                    assertEquals(want.tokenId(), got[i].tokenId(), what);
                    exact++;
                    if (params.adjustments().size() > 0 && want.tokenId() != argmax(row)) {
                        changedByPenalties++;
                    }
                } else {
                    int low = cpu.sample(row.clone(), withU(params, params.u() * (1 - BOUNDARY))).tokenId();
                    int high = cpu.sample(row.clone(), withU(params, params.u() * (1 + BOUNDARY))).tokenId();
                    if (low == high) {
                        assertEquals(want.tokenId(), got[i].tokenId(), what + ", u " + params.u());
                        exact++;
                    } else {
                        boundary++;
                        int token = got[i].tokenId();
                        assertTrue(token >= low && token <= high, what + ": GPU token " + token
                                + " outside the CPU's [" + low + ", " + high + "] around u " + params.u());
                    }
                }
                assertEquals(want.topLogprobs().isPresent(), got[i].topLogprobs().isPresent(), what);
                if (want.topLogprobs().isPresent()) {
                    List<TokenLogprob> w = want.topLogprobs().get();
                    List<TokenLogprob> g = got[i].topLogprobs().get();
                    assertEquals(w.stream().map(TokenLogprob::tokenId).toList(),
                            g.stream().map(TokenLogprob::tokenId).toList(), what);
                    for (int j = 0; j < w.size(); j++) {
                        double error = Math.abs(w.get(j).logprob() - g.get(j).logprob());
                        maxLogprobError = Math.max(maxLogprobError, error);
                        assertTrue(error <= 1e-5, what + ", logprob rank " + j + ": " + g.get(j) + " vs " + w.get(j));
                    }
                }
            }
            System.out.printf("kd_sample vocab %d %s: %d draws, %d exact, %d within 1e-5 of a CDF boundary, "
                            + "%d greedy tokens moved by penalties, max logprob error %.2e, %.2f ms for the call%n",
                    vocab, shape, draws.size(), exact, boundary, changedByPenalties, maxLogprobError, millis);
            if (penaltiesMustMatter) {
                assertTrue(changedByPenalties > 0,
                        "the penalised greedy mode must change some tokens to test anything");
            }
        }
    }

    @Test
    void drawsSharingARowKeepTheirOwnAdjustments() {
        int vocab = 32_000;
        float[] values = distinctRows(1, vocab, true, 5);
        int best = argmax(values);
        // min_tokens keeps the argmax (this state's EOS) out of the first draw only
        SamplingParams masking = SamplingParams.builder().maxTokens(4).minTokens(1).build();
        SamplingState masked = new SamplingState(masking, new int[] {1}, new int[] {best}, 0);
        SamplingState plain = new SamplingState(SamplingParams.greedy(4), new int[] {1}, new int[] {best}, 0);
        try (DeviceBuffer buffer = DeviceBuffer.allocate((long) vocab * Float.BYTES).copyFrom(values);
             GpuSampler sampler = newSampler(4, vocab)) {
            sampler.poisonResults();
            SampleResult[] got = sampler.sample(new DeviceRows(buffer, 1, vocab),
                    List.of(new Draw(0, masked), new Draw(0, plain), new Draw(0, masked)));
            int second = cpu.sample(values.clone(), new SamplingState(masking, new int[] {1}, new int[] {best}, 0))
                    .tokenId();
            System.out.printf("kd_sample shared row: argmax %d, masked draws %d and %d, plain draw %d%n", best,
                    got[0].tokenId(), got[2].tokenId(), got[1].tokenId());
            assertNotEquals(best, second);
            assertEquals(second, got[0].tokenId());
            assertEquals(best, got[1].tokenId(), "the first draw's mask must not leak into the second");
            assertEquals(second, got[2].tokenId());
            assertThrows(IllegalArgumentException.class, () -> sampler.sample(new HostLogits(values, 1, vocab),
                    List.of(new Draw(0, plain))), "heap logits are the CPU sampler's");
        }
    }

    @Test
    void greedyAndLogprobsBreakTiesByLowerId() {
        int vocab = 32_000;
        float[] values = distinctRows(1, vocab, false, 9);
        for (int id : new int[] {7000, 10, 500}) {
            values[id] = 30f;
        }
        values[12] = 29f;
        values[3] = 29f;
        SamplingParams params = SamplingParams.builder().maxTokens(4).logprobs(4).build();
        try (DeviceBuffer buffer = DeviceBuffer.allocate((long) vocab * Float.BYTES).copyFrom(values);
             GpuSampler sampler = newSampler(1, vocab)) {
            sampler.poisonResults();
            SampleResult got = sampler.sample(new DeviceRows(buffer, 1, vocab),
                    List.of(new Draw(0, new SamplingState(params, new int[] {1}, new int[0], 0))))[0];
            List<Integer> ids = got.topLogprobs().orElseThrow().stream().map(TokenLogprob::tokenId).toList();
            System.out.printf("kd_sample ties: token %d, logprob ids %s%n", got.tokenId(), ids);
            assertEquals(10, got.tokenId());
            assertEquals(List.of(10, 500, 7000, 3), ids);
        }
    }

    /**
     * Top-p over a row of 32 tied levels (about 4,000 tokens each, the best about 23% of the mass; top_p 0.05 keeps
     * one level, 0.99 nineteen): the kept set is every token at or above the level where the cumulative mass, best
     * level first, reaches top_p of the total (the CPU would keep only part of that level). The twin: the CPU sampler
     * at top_p 1 on the row with the other tokens masked, with the same uniform.
     */
    @Test
    void topPKeepsEveryTokenTiedWithItsBoundary() {
        int vocab = 128_256;
        float[] values = tiedRows(1, vocab, 31, 0);
        double[] topPs = {0.05, 0.3, 0.5, 0.9, 0.99};
        List<Draw> draws = new ArrayList<>();
        List<SamplingState> cpuStates = new ArrayList<>();
        for (double topP : topPs) {
            for (int seed = 0; seed < 8; seed++) {
                SamplingParams params = SamplingParams.builder().maxTokens(4).temperature(1).topP(topP).seed(seed)
                        .build();
                draws.add(new Draw(0, new SamplingState(params, new int[] {1}, new int[0], 0)));
                cpuStates.add(new SamplingState(params, new int[] {1}, new int[0], 0));
            }
        }
        try (DeviceBuffer buffer = DeviceBuffer.allocate((long) vocab * Float.BYTES).copyFrom(values);
             GpuSampler sampler = newSampler(MAX_DRAWS, vocab)) {
            sampler.poisonResults();
            SampleResult[] got = sampler.sample(new DeviceRows(buffer, 1, vocab), draws);
            int boundary = 0;
            for (int i = 0; i < draws.size(); i++) {
                DrawParams params = DrawParams.of(cpuStates.get(i), vocab);
                float level = topPLevel(values, params.topP());
                float[] kept = values.clone();
                for (int t = 0; t < vocab; t++) {
                    if (kept[t] < level) {
                        kept[t] = Float.NEGATIVE_INFINITY;
                    }
                }
                DrawParams plain = new DrawParams(params.temperature(), 0, 1.0, params.logMinP(), params.u(),
                        params.logprobs(), params.adjustments());
                String what = "top_p " + params.topP() + ", boundary level " + level + ", u " + params.u();
                int want = cpu.sample(kept.clone(), plain).tokenId();
                int low = cpu.sample(kept.clone(), withU(plain, params.u() * (1 - BOUNDARY))).tokenId();
                int high = cpu.sample(kept.clone(), withU(plain, params.u() * (1 + BOUNDARY))).tokenId();
                int token = got[i].tokenId();
                assertTrue(values[token] >= level, what + ": GPU token " + token + " below the boundary level");
                if (low == high) {
                    assertEquals(want, token, what);
                } else {
                    boundary++;
                    assertTrue(token >= low && token <= high, what + ": GPU token " + token + " outside the CPU's ["
                            + low + ", " + high + "]");
                }
            }
            System.out.printf("kd_sample top-p ties: %d draws, %d within 1e-5 of a CDF boundary%n", draws.size(),
                    boundary);
        }
    }

    /**
     * The lowest logit top-p keeps at temperature 1 when ties stay together: levels best first, each level's mass
     * (exp(v - max) in double) added whole, until top_p of the total is reached. Fails where the total lands within
     * 1e-7 of a level's edge, where the kernel's fixed-point masses might decide otherwise.
     */
    private static float topPLevel(float[] values, double topP) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            max = Math.max(max, v);
        }
        TreeMap<Float, Double> levels = new TreeMap<>(Comparator.reverseOrder());
        double total = 0;
        for (float v : values) {
            double e = Math.exp(v - max);
            levels.merge(v, e, Double::sum);
            total += e;
        }
        double target = topP * total;
        double cumulative = 0;
        for (Map.Entry<Float, Double> level : levels.entrySet()) {
            cumulative += level.getValue();
            assertTrue(Math.abs(cumulative - target) > 1e-7 * total, "top_p " + topP + " lands on a level's edge");
            if (cumulative >= target) {
                return level.getKey();
            }
        }
        return levels.lastKey();
    }

    static GpuSampler newSampler(int maxDraws, int vocab) {
        return new GpuSampler(KernelModule.load("sampling"), KernelModule.load("token_bitmask"),
                CudaTestSupport.context().stream(), new OpProfiler(KernelModule.load("profile")), maxDraws, vocab);
    }

    /** The same state the engine would hold: a prompt with the row's best tokens, some output, an EOS at risk. */
    private static SamplingState state(SamplingParams params, float[] logits) {
        int[] best = bestIds(logits, 6);
        int[] prompt = {best[0], best[2], 17, 4242 % logits.length, best[5]};
        SamplingState state = new SamplingState(params, prompt, new int[] {best[1]}, 0);
        state.accept(best[0]);
        state.accept(best[3]);
        state.accept(best[0]);
        return state;
    }

    private static DrawParams withU(DrawParams p, double u) {
        return new DrawParams(p.temperature(), p.topK(), p.topP(), p.logMinP(), u, p.logprobs(), p.adjustments());
    }

    /**
     * Rows of distinct values (no ties, so top-p's boundary is the same set on both sides). Peaked: uniform in
     * [-4, 4) plus a few tokens far above; flat: uniform in [-0.5, 0.5).
     */
    private static float[] distinctRows(int rows, int vocab, boolean peaked, long seed) {
        float[] values = new float[rows * vocab];
        SplittableRandom random = new SplittableRandom(seed);
        for (int r = 0; r < rows; r++) {
            float[] row = CudaTestSupport.randomFloats(vocab, seed * 31 + r, peaked ? 4f : 0.5f);
            if (peaked) {
                for (int s = 0; s < 8; s++) {
                    row[random.nextInt(vocab)] = 10f + (float) random.nextDouble() * 8f;
                }
            }
            System.arraycopy(distinct(row), 0, values, r * vocab, vocab);
        }
        return values;
    }

    /** Nudges repeated values up until all differ (-infinity stays: a masked token is never kept). */
    private static float[] distinct(float[] row) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < row.length; i++) {
            while (row[i] > Float.NEGATIVE_INFINITY && !seen.add(Float.floatToIntBits(row[i]))) {
                row[i] = Math.nextUp(row[i]);
            }
        }
        return row;
    }

    /** Distinct values in [1, 1 + 1/64): every key shares its top byte, so the first pass puts all in one bin. */
    private static float[] narrowRows(int rows, int vocab, long seed) {
        float[] values = new float[rows * vocab];
        SplittableRandom random = new SplittableRandom(seed);
        for (int r = 0; r < rows; r++) {
            float[] row = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                row[i] = 1f + (float) (random.nextDouble() / 64);
            }
            System.arraycopy(distinct(row), 0, values, r * vocab, vocab);
        }
        return values;
    }

    /** Peaked distinct rows with a random half of the tokens at -infinity. */
    private static float[] maskedRows(int rows, int vocab, long seed) {
        float[] values = distinctRows(rows, vocab, true, seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < values.length; i++) {
            if (random.nextBoolean()) {
                values[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return values;
    }

    /** 32 levels in [-4, 4), each about 1/32 of the row, and {@code top} tokens tied at 12 above them. */
    private static float[] tiedRows(int rows, int vocab, long seed, int top) {
        float[] values = new float[rows * vocab];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(32) / 4f - 4f;
        }
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < top; s++) {
                values[r * vocab + random.nextInt(vocab)] = 12f;
            }
        }
        return values;
    }

    private static int[] bestIds(float[] logits, int count) {
        return IntStream.range(0, logits.length).boxed()
                .sorted((a, b) -> Float.compare(logits[b], logits[a])).limit(count).mapToInt(Integer::intValue)
                .toArray();
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The test's device logits: rows uploaded to one buffer. */
    record DeviceRows(DeviceBuffer buffer, int numRows, int vocabSize) implements DeviceLogits {

        @Override
        public CUdeviceptr pointer() {
            return buffer.ptr();
        }

        @Override
        public float[] row(int i) {
            float[] row = new float[vocabSize];
            long bytes = (long) vocabSize * Float.BYTES;
            cuMemcpyDtoH(Pointer.to(row), buffer.at(i * bytes), bytes);
            return row;
        }
    }
}
