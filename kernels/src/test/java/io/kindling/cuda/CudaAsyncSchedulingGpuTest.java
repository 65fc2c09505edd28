package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.AsyncSchedulingRun;
import io.kindling.testing.Fixtures;
import io.kindling.testing.MixedPromptRuns;
import io.kindling.testing.ReferenceAgreement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous scheduling on the GPU, where the next step's input ids come from the previous step's draws on the
 * device (kd_take_sampled) and decode steps replay graphs: the same requests give the same outputs (tokens,
 * logprobs, finish reasons), finishing in the same order, with it on and off; with aborts mid-run and under
 * preemption. The requests stop at different steps (max_tokens, stop token ids), sample with penalties, fork
 * (n > 1) and search beams (which fall back to synchronous steps).
 */
class CudaAsyncSchedulingGpuTest {

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    @Test
    void mixedRequestsGiveTheSameOutputsInTheSameOrder() {
        List<Request> requests = requests();
        AsyncSchedulingRun sync = run(config(), requests, false, Set.of(), 0);
        AsyncSchedulingRun async = run(config(), requests, true, Set.of(), 0);
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertTrue(sync.finishedAt().stream().distinct().count() > 5, "requests must finish at different steps: "
                + sync.finishedAt());
    }

    @Test
    void abortsMidRunLeaveTheOthersAlone() {
        List<Request> requests = requests();
        Set<String> aborted = Set.of("greedy3", "n3", "seeded2");
        AsyncSchedulingRun sync = run(config(), requests, false, aborted, 4);
        AsyncSchedulingRun async = run(config(), requests, true, aborted, 4);
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertFalse(async.outputs().stream().anyMatch(o -> aborted.contains(o.requestId())));
    }

    @Test
    void preemptionUnderASmallCacheGivesTheSameOutputs() {
        long bytesPerBlock;
        try (LlmEngine engine = CudaEngineGpuTest.open(config())) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        EngineConfig small = config().withKvCacheMemoryBytes(24 * bytesPerBlock).withMaxNumBatchedTokens(256);
        List<Request> requests = requests().stream().filter(r -> !r.params().isBeamSearch()).toList();
        AsyncSchedulingRun sync = run(small, requests, false, Set.of(), 0);
        AsyncSchedulingRun async = run(small, requests, true, Set.of(), 0);
        assertTrue(sync.preemptions() > 0 && async.preemptions() > 0, "the small cache must preempt: "
                + sync.preemptions() + " and " + async.preemptions());
        // a finished sequence holds its blocks a step longer with it on, so the preemptions and the finishing
        // order may differ, and with them which tokens' K/V a prefill recomputes: prefill attention rounds its
        // reduction differently from decode (bf16 K/V), which moved logprobs by up to 0.02 (H100, 2026-12-06).
        // Tokens, text and finish reasons may not differ
        AsyncSchedulingRun.assertSame(sync, async, false, 0.05);
    }

    private static AsyncSchedulingRun run(EngineConfig config, List<Request> requests, boolean async,
                                          Set<String> abort, int abortAfterSteps) {
        return AsyncSchedulingRun.run(CudaEngineGpuTest::open, config, requests, async, abort, abortAfterSteps);
    }

    private static EngineConfig config() {
        return CudaEngineGpuTest.onGpu(Fixtures.checkpoint("llama3-tiny"));
    }

    /** Requests over the first 16 prompts of mixed32 (3 to 300 tokens). */
    private static List<Request> requests() {
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
