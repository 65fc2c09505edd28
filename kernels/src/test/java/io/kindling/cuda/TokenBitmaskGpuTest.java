package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kindling.backend.Draw;
import io.kindling.backend.SampleResult;
import io.kindling.backend.cpu.Sampler;
import io.kindling.sampling.DrawParams;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.structured.ConstraintState;
import io.kindling.structured.Grammar;
import io.kindling.structured.Grammars;
import io.kindling.structured.StructuredOutput;
import io.kindling.structured.TokenBitmask;
import io.kindling.structured.TokenVocabulary;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Structured output on the GPU against the CPU: {@code kd_apply_token_bitmask} must leave exactly what
 * {@link TokenBitmask} leaves, and constrained draws through the {@link GpuSampler} must pick the CPU
 * {@link Sampler}'s tokens (greedy exactly; random draws up to a CDF boundary, as {@code SamplerGpuTest} allows).
 */
class TokenBitmaskGpuTest {

    private static final String ALPHABET = "abcdef{}\":, 0123456789xyz";

    @BeforeEach
    void requireGpu() {
        assumeTrue(CudaTestSupport.available(), "no GPU: " + CudaTestSupport.whyUnavailable());
    }

    @Test
    void theKernelMasksExactlyAsTheCpuTwin() {
        for (int vocab : new int[] {32_000, 32_001, 128_256}) {
            int rows = 5;
            float[] values = CudaTestSupport.randomFloats(rows * vocab, vocab, 4f);
            SplittableRandom random = new SplittableRandom(vocab);
            int words = (vocab + 31) >>> 5;
            int[] masked = {3, 0, 4, 1}; // row 2 stays as it is
            int[][] masks = new int[masked.length][words];
            float[] want = values.clone();
            for (int i = 0; i < masked.length; i++) {
                for (int w = 0; w < words; w++) {
                    masks[i][w] = i == 2 ? -1 : random.nextInt() & random.nextInt(); // row 4: all allowed
                }
                if (i == 3) {
                    masks[3] = masks[0]; // rows in one automaton state share one mask array: uploaded once
                }
                float[] row = Arrays.copyOfRange(want, masked[i] * vocab, (masked[i] + 1) * vocab);
                TokenBitmask.apply(masks[i], row);
                System.arraycopy(row, 0, want, masked[i] * vocab, vocab);
            }
            try (DeviceBuffer logits = DeviceBuffer.allocate((long) values.length * Float.BYTES).copyFrom(values);
                 TokenBitmaskKernel kernel = new TokenBitmaskKernel(KernelModule.load("token_bitmask"), vocab)) {
                kernel.apply(CudaTestSupport.context().stream(), logits.ptr(), vocab, masked, masks);
                cuStreamSynchronize(CudaTestSupport.context().stream());
                float[] got = logits.copyTo(new float[values.length]);
                assertArrayEquals(want, got, "vocab " + vocab);
            }
        }
    }

    @Test
    void constrainedDrawsMatchTheCpuSampler() {
        int vocab = 32_001;
        int eos = vocab - 1;
        byte[][] tokens = new byte[vocab][];
        SplittableRandom random = new SplittableRandom(3);
        for (int id = 0; id < eos; id++) {
            StringBuilder s = new StringBuilder();
            for (int k = 1 + random.nextInt(4); k > 0; k--) {
                s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            tokens[id] = s.toString().getBytes(StandardCharsets.UTF_8);
        }
        Grammars grammars = new Grammars(new TokenVocabulary(tokens, vocab, new int[] {eos}));
        List<Grammar> constraints = List.of(
                grammars.compile(new StructuredOutput.Regex("[a-f]{1,30}")),
                grammars.compile(new StructuredOutput.JsonSchema("{\"type\":\"object\",\"properties\":{\"a\":"
                        + "{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"a\",\"b\"]}")));
        List<SamplingParams> modes = List.of(SamplingParams.builder().maxTokens(40).logprobs(5).build(),
                SamplingParams.builder().maxTokens(40).temperature(1).build(),
                SamplingParams.builder().maxTokens(40).temperature(0.8).topK(40).topP(0.9).build());
        int rows = 24;
        float[] values = CudaTestSupport.randomFloats(rows * vocab, 11, 4f);
        List<Draw> draws = new ArrayList<>();
        List<SamplingState> cpuStates = new ArrayList<>();
        for (int row = 0; row < rows; row++) {
            Grammar grammar = constraints.get(row % constraints.size());
            ConstraintState state = new ConstraintState(grammar, 40);
            for (int t = random.nextInt(6); t > 0; t--) { // a few allowed tokens in, so rows differ in state
                int[] allowed = state.allowedTokens();
                int token = pickAllowed(allowed, random, eos);
                if (token < 0) {
                    break;
                }
                state.accept(token);
            }
            SamplingParams params = modes.get(row % modes.size()).toBuilder().seed(row).build();
            // the last row gets a second draw: the samples of n > 1 share their first row and state
            for (int d = 0; d < (row == rows - 1 ? 2 : 1); d++) {
                draws.add(new Draw(row, new SamplingState(params, new int[] {1}, new int[] {eos}, 0,
                        Optional.of(state.copy()))));
                cpuStates.add(new SamplingState(params, new int[] {1}, new int[] {eos}, 0,
                        Optional.of(state.copy())));
            }
        }
        Sampler cpu = new Sampler();
        try (DeviceBuffer buffer = DeviceBuffer.allocate((long) values.length * Float.BYTES).copyFrom(values);
             GpuSampler sampler = SamplerGpuTest.newSampler(16, vocab)) {
            SampleResult[] got = sampler.sample(new SamplerGpuTest.DeviceRows(buffer, rows, vocab), draws);
            int exact = 0;
            for (int i = 0; i < draws.size(); i++) {
                int row = draws.get(i).row();
                float[] logits = Arrays.copyOfRange(values, row * vocab, (row + 1) * vocab);
                DrawParams params = DrawParams.of(cpuStates.get(i), vocab);
                int[] allowed = params.allowedTokens().orElseThrow();
                int token = got[i].tokenId();
                assertTrue((allowed[token >>> 5] & (1 << (token & 31))) != 0, "draw " + i + ": token " + token
                        + " is not allowed");
                int want = cpu.sample(logits.clone(), params).tokenId();
                if (params.isGreedy()) {
                    assertEquals(want, token, "greedy draw " + i);
                    assertEquals(cpu.sample(logits.clone(), params).topLogprobs(), got[i].topLogprobs(), "draw " + i);
                    exact++;
                } else if (want == token) {
                    exact++;
                } else {
                    int low = cpu.sample(logits.clone(), withU(params, params.u() * (1 - 1e-5))).tokenId();
                    int high = cpu.sample(logits.clone(), withU(params, params.u() * (1 + 1e-5))).tokenId();
                    assertTrue(low != high && token >= low && token <= high, "draw " + i + ": GPU " + token
                            + ", CPU " + want);
                }
            }
            System.out.printf("constrained draws: %d of %d exactly the CPU's%n", exact, draws.size());
        }
    }

    private static int pickAllowed(int[] allowed, SplittableRandom random, int eos) {
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < eos; id++) {
            if ((allowed[id >>> 5] & (1 << (id & 31))) != 0) {
                ids.add(id);
            }
        }
        return ids.isEmpty() ? -1 : ids.get(random.nextInt(ids.size()));
    }

    private static DrawParams withU(DrawParams p, double u) {
        return new DrawParams(p.temperature(), p.topK(), p.topP(), p.logMinP(), u, p.logprobs(), p.adjustments(),
                p.allowedTokens());
    }
}
