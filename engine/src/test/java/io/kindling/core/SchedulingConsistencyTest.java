package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import io.kindling.testing.ReferenceAgreement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching must not change results: 32 mixed-length prompts give the same greedy tokens one at a time,
 * all together, and under a KV budget so small that sequences are preempted and recomputed.
 */
class SchedulingConsistencyTest {

    static Path model;
    static List<JsonNode> prompts;

    @BeforeAll
    static void load() throws IOException {
        model = Fixtures.checkpoint("llama3-tiny");
        prompts = new ArrayList<>();
        ReferenceAgreement.JSON.readTree(model.resolve("mixed32.json").toFile()).get("prompts")
                .forEach(prompts::add);
        assertEquals(32, prompts.size());
    }

    static List<Request> requests(int maxTokens) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new Request("r" + i, ReferenceAgreement.ints(prompts.get(i).get("prompt_token_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).logprobs(2).build()));
        }
        return requests;
    }

    static EngineConfig config() {
        return EngineConfig.defaults(model).withDevice("cpu").withKvCacheMemoryBytes(64L << 20);
    }

    @Test
    void aloneBatchedAndPreemptedGiveIdenticalGreedyTokens() {
        int maxTokens = prompts.get(0).get("token_ids").size();
        List<Request> requests = requests(maxTokens);
        List<int[]> alone = new ArrayList<>();
        try (LlmEngine engine = LlmEngine.open(config())) {
            for (Request r : requests) {
                alone.add(engine.generate(List.of(r)).get(0).completion().tokenIds());
            }
        }
        List<RequestOutput> batched;
        try (LlmEngine engine = LlmEngine.open(config().withMaxNumBatchedTokens(512))) {
            batched = engine.generate(requests);
            assertEquals(0, engine.stats().numPreemptions());
        }
        long bytesPerBlock;
        try (LlmEngine engine = LlmEngine.open(config())) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        List<RequestOutput> preempted;
        try (LlmEngine small = LlmEngine.open(config().withMaxNumBatchedTokens(256)
                .withKvCacheMemoryBytes(24 * bytesPerBlock))) {
            assertEquals(24, small.stats().numBlocks());
            preempted = small.generate(requests);
            assertTrue(small.stats().numPreemptions() > 0, "the small KV budget must force preemption");
        }
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(alone.get(i), batched.get(i).completion().tokenIds(), "batched, prompt " + i);
            assertArrayEquals(alone.get(i), preempted.get(i).completion().tokenIds(), "preempted, prompt " + i);
            ReferenceAgreement.assertMatches("prompt " + i, prompts.get(i), batched.get(i), ReferenceAgreement.FLOAT32);
        }
    }

    @Test
    void seededSampledRequestIsTheSameAloneAndInABusyBatch() {
        int[] prompt = ReferenceAgreement.ints(prompts.get(5).get("prompt_token_ids"));
        SamplingParams seeded = SamplingParams.builder().temperature(0.9).topP(0.95).topK(50).seed(1234)
                .maxTokens(24).ignoreEos(true).build();
        Request probe = new Request("probe", prompt, seeded);
        int[] alone;
        try (LlmEngine engine = LlmEngine.open(config())) {
            alone = engine.generate(List.of(probe)).get(0).completion().tokenIds();
        }
        try (LlmEngine engine = LlmEngine.open(config())) {
            List<Request> busy = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                busy.add(new Request("other" + i, ReferenceAgreement.ints(prompts.get(i).get("prompt_token_ids")),
                        SamplingParams.builder().temperature(1.0).maxTokens(8 + i).ignoreEos(true).build()));
            }
            busy.add(8, probe);
            List<RequestOutput> outputs = engine.generate(busy);
            assertArrayEquals(alone, outputs.get(8).completion().tokenIds());
        }
        try (LlmEngine engine = LlmEngine.open(config())) {
            Request otherSeed = new Request("probe2", prompt, seeded.toBuilder().seed(99).build());
            int[] different = engine.generate(List.of(otherSeed)).get(0).completion().tokenIds();
            assertTrue(!java.util.Arrays.equals(alone, different), "another seed should sample other tokens");
        }
    }
}
