package io.kindling.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The engine issue's scheduler workload: the 32 mixed-length prompts of {@code mixed32.json}, generated greedily
 * one at a time, all together, and under a KV budget so small that sequences are preempted and recomputed. Each
 * backend's test decides how close the three must be.
 *
 * @param alone each request in an engine of its own
 * @param batched all requests in one engine, 512-token steps, no preemption
 * @param preempted all requests in 256-token steps and a 24-block KV cache
 */
public record MixedPromptRuns(List<RequestOutput> alone, List<RequestOutput> batched,
                              List<RequestOutput> preempted) {

    /** The prompts (with their reference tokens and margins) of a {@code mixed32.json}. */
    public static List<JsonNode> prompts(Path mixed32) {
        List<JsonNode> prompts = new ArrayList<>();
        ReferenceAgreement.read(mixed32).get("prompts").forEach(prompts::add);
        assertEquals(32, prompts.size(), mixed32 + ": number of prompts");
        return prompts;
    }

    /** Greedy, {@code ignore_eos}, top-2 logprobs: request {@code r<i>} for prompt {@code i}. */
    public static List<Request> requests(List<JsonNode> prompts, int maxTokens) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new Request("r" + i, ReferenceAgreement.ints(prompts.get(i).get("prompt_token_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).logprobs(2).build()));
        }
        return requests;
    }

    /**
     * Runs the three ways on engines that {@code open} opens from {@code base} (e.g. {@code LlmEngine::open}),
     * asserting that only the small budget preempts.
     */
    public static MixedPromptRuns run(Function<EngineConfig, LlmEngine> open, EngineConfig base,
                                      List<Request> requests) {
        List<RequestOutput> alone = new ArrayList<>();
        long bytesPerBlock;
        try (LlmEngine engine = open.apply(base)) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
            for (Request r : requests) {
                alone.add(engine.generate(List.of(r)).get(0));
            }
        }
        List<RequestOutput> batched;
        try (LlmEngine engine = open.apply(base.withMaxNumBatchedTokens(512))) {
            batched = engine.generate(requests);
            assertEquals(0, engine.stats().numPreemptions(), "batched run preempted");
        }
        List<RequestOutput> preempted;
        try (LlmEngine small = open.apply(base.withMaxNumBatchedTokens(256)
                .withKvCacheMemoryBytes(24 * bytesPerBlock))) {
            assertEquals(24, small.stats().numBlocks());
            preempted = small.generate(requests);
            assertTrue(small.stats().numPreemptions() > 0, "the small KV budget must force preemption");
        }
        return new MixedPromptRuns(alone, batched, preempted);
    }

    /** Asserts bit-identical runs: each prompt's tokens alone, batched and preempted; its logprobs alone, batched. */
    public void assertIdentical() {
        for (int i = 0; i < alone.size(); i++) {
            int[] tokens = alone.get(i).completion().tokenIds();
            assertArrayEquals(tokens, batched.get(i).completion().tokenIds(), "batched, prompt " + i);
            assertArrayEquals(tokens, preempted.get(i).completion().tokenIds(), "preempted, prompt " + i);
            assertEquals(alone.get(i).completion().logprobs(), batched.get(i).completion().logprobs(),
                    "batched logprobs, prompt " + i);
        }
    }
}
