package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.RequestOutput;
import io.kindling.model.Checkpoint;
import io.kindling.testing.Fixtures;
import io.kindling.testing.MixedPromptRuns;
import io.kindling.testing.ReferenceAgreement;
import io.kindling.testing.ReferenceAgreement.Tolerance;
import io.kindling.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole engine on the GPU against Hugging Face transformers, by the CPU engine's margin-aware rule
 * ({@link ReferenceAgreement}) with bf16 tolerances. Prompts go in as the reference's token ids: the CPU tests
 * check tokenization, and the GPU machine's bundle carries no tokenizer (its natives and the chat templates'
 * java.desktop would not fit the size budget of a device call).
 *
 * <p>References: each fixture's own (transformers on its float32 weights), except where the system property
 * {@code kindling.gpuRefDir} names a directory holding {@code <fixture>/reference.json} or
 * {@code <fixture>/mixed32.json} recomputed by transformers for the bf16-rounded weights the GPU runs
 * ({@code tools/fixtures/make_gpu_reference.py bf16}). The property
 * {@code kindling.gpuRef1b} names a Llama-3.2-1B-shaped random-weight checkpoint directory ({@code config.json},
 * safetensors, and a {@code reference.json} with prompt ids; {@code make_gpu_reference.py build}).
 */
class CudaEngineGpuTest {

    /**
     * bf16 GEMM inputs and a bf16 KV cache move logprobs by several 1e-2: the chosen token's by up to 0.069 on the
     * fixtures and 0.057 on the 1B shape, the rest of the top 5 (flat tails near -5) by up to 0.14 on mistral-tiny
     * (H100, 2026-11-25). Where the reference's top-2 margin is below 0.1, either token may rightly win, so token
     * comparison stops there. transformers' own bf16 compute drifts 0.08-0.37 (the chosen token alone) from its
     * float32 on the same checkpoints ({@code tools/fixtures/bf16_drift.py}): these bounds are what bf16 arithmetic
     * allows, and tighter than transformers' bf16 meets.
     */
    static final Tolerance BF16 = new Tolerance(0.1, 0.15);

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    /** A small fixed KV budget: the auto budget would size the cache to the whole card for a tiny model. */
    static EngineConfig onGpu(Path model) {
        return EngineConfig.defaults(model).withDevice("cuda").withKvCacheMemoryBytes(64L << 20);
    }

    static LlmEngine open(EngineConfig config) {
        return LlmEngine.open(config, Checkpoint.open(config.model()), Tokenizer.none());
    }

    /** The fixture's file recomputed for bf16 weights where {@code kindling.gpuRefDir} has it, else its own. */
    static Path reference(String fixture, String file) {
        String dir = System.getProperty("kindling.gpuRefDir");
        Path recomputed = dir == null ? null : Path.of(dir, fixture, file);
        Path chosen = recomputed != null && Files.isRegularFile(recomputed) ? recomputed
                : Fixtures.checkpoint(fixture).resolve(file);
        System.out.printf("reference for %s: %s%n", fixture, chosen.equals(recomputed) ? recomputed
                : file + " of the fixture (float32 weights)");
        return chosen;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "llama2-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"})
    void greedyTokensAndLogprobsMatchTransformers(String fixture) {
        JsonNode reference = ReferenceAgreement.read(reference(fixture, "reference.json"));
        try (LlmEngine engine = open(onGpu(Fixtures.checkpoint(fixture)))) {
            assertTrue(engine.device().startsWith("cuda:0 ("), engine.device());
            int compared = ReferenceAgreement.assertCasesMatchFromIds(fixture, engine, reference, BF16);
            // each fixture's reference has at least 19 steps before its first margin under 0.1
            assertTrue(compared >= 15, fixture + ": too few steps compared: " + compared);
            System.out.printf("engine %s on %s: %d cases agree with transformers over %d steps%n", fixture,
                    engine.device(), reference.get("cases").size(), compared);
        }
    }

    /** The Llama-3.2-1B-shaped checkpoint that {@code -Dkindling.gpuRef1b} names; the test is skipped without one. */
    static Path checkpoint1b() {
        String dir = System.getProperty("kindling.gpuRef1b");
        assumeTrue(dir != null, "-Dkindling.gpuRef1b names no Llama-3.2-1B-shaped checkpoint with reference.json");
        return Path.of(dir);
    }

    @Test
    void llama1bShapedCheckpointMatchesTransformers() {
        Path model = checkpoint1b();
        JsonNode reference = ReferenceAgreement.read(model.resolve("reference.json"));
        // the auto KV budget: the backend's profile run sizes the cache from what the card has left
        try (LlmEngine engine = open(EngineConfig.defaults(model).withDevice("cuda"))) {
            int compared = ReferenceAgreement.assertCasesMatchFromIds("llama-1b-shape", engine, reference, BF16);
            System.out.printf("engine llama-1b-shape on %s: %d cases agree with transformers over %d steps; "
                            + "auto KV cache %d blocks of %d bytes%n", engine.device(), reference.get("cases").size(),
                    compared, engine.stats().numBlocks(), engine.stats().kvCacheBytesPerBlock());
        }
    }

    @Test
    void mixedLengthPromptsMatchTransformersAloneBatchedAndPreempted() {
        List<JsonNode> prompts = MixedPromptRuns.prompts(reference("llama3-tiny", "mixed32.json"));
        int maxTokens = prompts.get(0).get("token_ids").size();
        MixedPromptRuns runs = MixedPromptRuns.run(CudaEngineGpuTest::open,
                onGpu(Fixtures.checkpoint("llama3-tiny")), MixedPromptRuns.requests(prompts, maxTokens));
        // how far the GPU is from batch invariance, reported before any assertion can stop the test
        System.out.printf("mixed32 on cuda: %s; %s%n", differences("batched", runs.alone(), runs.batched()),
                differences("preempted", runs.alone(), runs.preempted()));
        for (int i = 0; i < prompts.size(); i++) {
            System.out.println(ReferenceAgreement.drift(prompts.get(i), runs.alone().get(i), BF16.tinyMargin())
                    .describe("mixed32 alone, prompt " + i));
        }
        for (int i = 0; i < prompts.size(); i++) {
            ReferenceAgreement.assertMatches("alone, prompt " + i, prompts.get(i), runs.alone().get(i), BF16);
            ReferenceAgreement.assertMatches("batched, prompt " + i, prompts.get(i), runs.batched().get(i), BF16);
            ReferenceAgreement.assertMatches("preempted, prompt " + i, prompts.get(i), runs.preempted().get(i), BF16);
        }
    }

    /** Tokens (and prompts) whose greedy choice differs between the alone run and {@code other}. */
    private static String differences(String what, List<RequestOutput> alone, List<RequestOutput> other) {
        int tokens = 0;
        int differingTokens = 0;
        int differingPrompts = 0;
        for (int i = 0; i < alone.size(); i++) {
            int[] a = alone.get(i).completion().tokenIds();
            int[] b = other.get(i).completion().tokenIds();
            int differing = 0;
            for (int j = 0; j < Math.max(a.length, b.length); j++) {
                if (j >= a.length || j >= b.length || a[j] != b[j]) {
                    differing++;
                }
            }
            tokens += a.length;
            differingTokens += differing;
            differingPrompts += differing > 0 ? 1 : 0;
        }
        return String.format("%d of %d tokens differ between alone and %s (in %d of %d prompts)", differingTokens,
                tokens, what, differingPrompts, alone.size());
    }
}
