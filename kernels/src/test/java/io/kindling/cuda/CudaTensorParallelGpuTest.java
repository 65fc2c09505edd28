package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.Backends;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.model.Checkpoint;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import io.kindling.testing.MixedPromptRuns;
import io.kindling.testing.ReferenceAgreement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CUDA engine split over two tensor-parallel ranks against the same engine on one GPU. Both ranks run on GPU 0
 * ({@code cuda:0,0}: two streams on the card's context, the all-reduce and logits gather going through the same
 * peer copies and events as across cards), so a single-GPU host checks the split; {@code -Dkindling.tpDevices=cuda:0,1}
 * runs it across two cards. o_proj and down_proj add their K halves separately (each rank's GEMM), then in rank order,
 * so the logits differ from one rank's by float32 reordering and the bf16 roundings it moves: held to the margin-aware
 * rule of {@link ReferenceAgreement} with the single-GPU engine as the reference, at the tolerance the single-GPU
 * engine meets against transformers ({@link CudaEngineGpuTest#BF16}); the drift is printed for tightening it. The
 * reductions' order is fixed, so at two ranks a prompt alone, batched or preempted gives the same tokens.
 *
 * <p>Fixture: llama3-tiny, the one whose split (2 query heads of 8, 24 MLP features a rank) the GEMM's multiples of
 * 8 allow; the others' intermediate_size 40 is refused ({@code CudaBackendProviderTest}). {@code -Dkindling.gpuRef1b}
 * adds the Llama-3.2-1B-shaped checkpoint.
 */
class CudaTensorParallelGpuTest {

    private static final String DEVICES = System.getProperty("kindling.tpDevices", "cuda:0,0");

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    /** {@code model} over two ranks on {@link #DEVICES}, with the small fixed KV budget of the single-GPU tests. */
    static EngineConfig split(Path model) {
        return CudaEngineGpuTest.onGpu(model).withDevice(DEVICES).withTensorParallelSize(2);
    }

    @Test
    void greedyTokensAndLogprobsMatchOneGpu() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        JsonNode reference = ReferenceAgreement.read(model.resolve("reference.json"));
        List<Request> requests = greedyRequests(reference);
        List<RequestOutput> single;
        try (LlmEngine engine = CudaEngineGpuTest.open(CudaEngineGpuTest.onGpu(model))) {
            single = engine.generate(requests);
        }
        try (LlmEngine engine = CudaEngineGpuTest.open(split(model))) {
            assertEquals(DEVICES + " (", engine.device().substring(0, DEVICES.length() + 2), engine.device());
            assertTrue(engine.device().endsWith(", bf16, tensor_parallel_size 2)"), engine.device());
            List<RequestOutput> outputs = engine.generate(requests);
            int compared = matchOneGpu("llama3-tiny", single, outputs);
            // the tiny fixture's near-ties stop the margin rule early: one H200 run compared 19 steps over 9 cases
            assertTrue(compared >= 15, "too few steps compared: " + compared);
        }
    }

    @Test
    void greedyTokensAndLogprobsMatchTransformers() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        JsonNode reference = ReferenceAgreement.read(CudaEngineGpuTest.reference("llama3-tiny", "reference.json"));
        try (LlmEngine engine = CudaEngineGpuTest.open(split(model))) {
            int compared = ReferenceAgreement.assertCasesMatchFromIds("llama3-tiny over 2 ranks", engine, reference,
                    CudaEngineGpuTest.BF16);
            assertTrue(compared >= 15, "too few steps compared: " + compared);
        }
    }

    @Test
    void theKvCacheIsSplitNotGrown() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        try (LlmEngine one = CudaEngineGpuTest.open(CudaEngineGpuTest.onGpu(model))) {
            long bytesPerBlock = one.stats().kvCacheBytesPerBlock();
            int numBlocks = one.stats().numBlocks();
            try (LlmEngine two = CudaEngineGpuTest.open(split(model))) {
                assertEquals(bytesPerBlock, two.stats().kvCacheBytesPerBlock());
                assertEquals(numBlocks, two.stats().numBlocks());
            }
        }
    }

    /**
     * Two ranks on one card, a cache whose rank share fits the card once but not twice: rank 1's allocation fails,
     * is named, and rank 0's is freed, so that the card has its memory back and a cache that fits still goes in.
     */
    @Test
    void aKvCacheThatFailsOnRank1FreesRank0s() {
        assumeTrue(DEVICES.equals("cuda:0,0"), "two ranks on one card");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"));
             Backend backend = Backends.create(DEVICES, checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2))) {
            CudaContext card = CudaTestSupport.context(); // GPU 0's primary context, which the ranks share
            long free = card.freeMemory();
            long rankBytesPerBlock = backend.kvCacheBytesPerBlock(16) / 2;
            int numBlocks = Math.toIntExact((long) (free * 0.6) / rankBytesPerBlock);
            CudaBackendException e = assertThrows(CudaBackendException.class,
                    () -> backend.allocateKvCache(numBlocks, 16));
            assertTrue(e.getMessage().startsWith("allocating a KV cache of " + numBlocks + " blocks")
                    && e.getMessage().contains(" on rank 1 (cuda:0) failed on the GPU"), e.getMessage());
            card.makeCurrent();
            long leaked = free - card.freeMemory();
            assertTrue(leaked < free / 10, "rank 0's cache of " + (long) numBlocks * rankBytesPerBlock
                    + " bytes still holds " + leaked + " bytes");
            backend.allocateKvCache(64, 16);
        }
    }

    @Test
    void aloneBatchedAndPreemptedGiveIdenticalTokensOverTwoRanks() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        List<JsonNode> prompts = MixedPromptRuns.prompts(model.resolve("mixed32.json"));
        MixedPromptRuns.run(CudaEngineGpuTest::open, split(model),
                MixedPromptRuns.requests(prompts, 12)).assertIdentical();
    }

    @Test
    void llama1bShapedCheckpointMatchesOneGpuAndTransformers() {
        Path model = CudaEngineGpuTest.checkpoint1b();
        JsonNode reference = ReferenceAgreement.read(model.resolve("reference.json"));
        List<Request> requests = greedyRequests(reference);
        // the auto KV budget: the profile run sizes each rank's cache from what its GPU has left
        List<RequestOutput> single;
        try (LlmEngine engine = CudaEngineGpuTest.open(EngineConfig.defaults(model).withDevice("cuda"))) {
            single = engine.generate(requests);
        }
        try (LlmEngine engine = CudaEngineGpuTest.open(EngineConfig.defaults(model).withDevice(DEVICES)
                .withTensorParallelSize(2))) {
            List<RequestOutput> outputs = engine.generate(requests);
            matchOneGpu("llama-1b-shape", single, outputs);
            int compared = 0;
            for (int i = 0; i < requests.size(); i++) {
                compared += ReferenceAgreement.assertMatches("llama-1b-shape vs transformers, case " + i,
                        reference.get("cases").get(i), outputs.get(i), CudaEngineGpuTest.BF16);
            }
            System.out.printf("engine llama-1b-shape on %s: %d steps agree with transformers; auto KV cache %d blocks "
                    + "of %d bytes%n", engine.device(), compared, engine.stats().numBlocks(),
                    engine.stats().kvCacheBytesPerBlock());
        }
    }

    /** Greedy requests with the top-5 logprobs for the reference's cases, each as long as its reference. */
    private static List<Request> greedyRequests(JsonNode reference) {
        List<Request> requests = new ArrayList<>();
        for (JsonNode c : reference.get("cases")) {
            requests.add(new Request("case-" + requests.size(), ReferenceAgreement.ints(c.get("prompt_token_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(c.get("token_ids").size()).ignoreEos(true)
                            .logprobs(5).build()));
        }
        return requests;
    }

    /**
     * Prints each case's drift over two ranks from one GPU and asserts the margin rule against one GPU's output;
     * returns the steps compared.
     */
    private static int matchOneGpu(String model, List<RequestOutput> single, List<RequestOutput> split) {
        int compared = 0;
        for (int i = 0; i < single.size(); i++) {
            JsonNode oneGpu = ReferenceAgreement.asReference(single.get(i));
            System.out.println(ReferenceAgreement.drift(oneGpu, split.get(i), CudaEngineGpuTest.BF16.tinyMargin())
                    .describe(model + " over 2 ranks vs 1 GPU, case " + i));
            compared += ReferenceAgreement.assertMatches(model + " vs 1 GPU, case " + i, oneGpu, split.get(i),
                    CudaEngineGpuTest.BF16);
        }
        return compared;
    }
}
