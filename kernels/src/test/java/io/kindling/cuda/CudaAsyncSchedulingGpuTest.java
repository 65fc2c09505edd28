package io.kindling.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.AsyncSchedulingContract;
import io.kindling.testing.Fixtures;
import io.kindling.testing.MixedPromptRuns;
import io.kindling.testing.ReferenceAgreement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link AsyncSchedulingContract} on the GPU, where the next step's input ids come from the previous step's draws on
 * the device (kd_take_sampled) and decode steps replay graphs. The requests (token ids, no tokenizer) stop at
 * different steps (max_tokens, stop token ids), sample with penalties, fork (n > 1) and search beams.
 */
class CudaAsyncSchedulingGpuTest extends AsyncSchedulingContract {

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    @Override
    protected EngineConfig config() {
        return CudaEngineGpuTest.onGpu(Fixtures.checkpoint("llama3-tiny"));
    }

    @Override
    protected LlmEngine open(EngineConfig config) {
        return CudaEngineGpuTest.open(config);
    }

    @Override
    protected EngineConfig preempting(long kvCacheBytesPerBlock) {
        return config().withKvCacheMemoryBytes(24 * kvCacheBytesPerBlock).withMaxNumBatchedTokens(256);
    }

    /**
     * Prefill attention rounds its reduction differently from decode (bf16 K/V), so tokens recomputed after a
     * preemption carry slightly different K/V: logprobs moved by up to 0.02 (H100, 2026-12-06). Tokens, text and
     * finish reasons may not differ.
     */
    @Override
    protected double preemptedLogprobTolerance() {
        return 0.05;
    }

    /** Requests over the first 16 prompts of mixed32 (3 to 300 tokens). */
    @Override
    protected List<Request> requests() {
        List<JsonNode> prompts = MixedPromptRuns.prompts(Fixtures.checkpoint("llama3-tiny").resolve("mixed32.json"));
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ids.add(ReferenceAgreement.ints(prompts.get(i).get("prompt_token_ids")));
        }
        int stopToken = prompts.get(1).get("token_ids").get(3).asInt(); // the greedy continuation's fourth token
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            requests.add(new Request("greedy" + i, ids.get(i), SamplingParams.builder().temperature(0)
                    .maxTokens(6 + 5 * i).ignoreEos(i % 2 == 0).logprobs(2).build()));
        }
        for (int i = 0; i < 4; i++) {
            requests.add(new Request("seeded" + i, ids.get(8 + i), SamplingParams.builder().temperature(0.9)
                    .topP(0.9).topK(50).minP(0.02).seed(100 + i).maxTokens(30).presencePenalty(0.5)
                    .frequencyPenalty(0.3).repetitionPenalty(1.1).logprobs(1).build()));
        }
        requests.add(new Request("stopToken", ids.get(1), SamplingParams.builder().temperature(0).maxTokens(40)
                .ignoreEos(true).stopTokenIds(List.of(stopToken)).build()));
        requests.add(new Request("n3", ids.get(12), SamplingParams.builder().temperature(1.0).seed(5).n(3)
                .maxTokens(20).logprobs(1).build()));
        requests.add(new Request("beam", ids.get(13), SamplingParams.builder().beamWidth(3).n(2).maxTokens(12)
                .build()));
        requests.add(new Request("long", ids.get(15), SamplingParams.builder().temperature(0).maxTokens(40)
                .ignoreEos(true).build()));
        return requests;
    }
}
