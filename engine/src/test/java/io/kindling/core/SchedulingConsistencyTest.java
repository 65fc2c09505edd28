package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Continuous batching must not change results: 32 mixed-length prompts give the same greedy tokens one at a time,
 * all together, and under a KV budget so small that sequences are preempted and recomputed.
 */
class SchedulingConsistencyTest {

    static Path model;
    static List<JsonNode> prompts;

    @BeforeAll
    static void load() {
        model = Fixtures.checkpoint("llama3-tiny");
        prompts = MixedPromptRuns.prompts(model.resolve("mixed32.json"));
    }

    static EngineConfig config() {
        return EngineConfig.defaults(model).withDevice("cpu").withKvCacheMemoryBytes(64L << 20);
    }

    @Test
    void aloneBatchedAndPreemptedGiveIdenticalGreedyTokens() {
        int maxTokens = prompts.get(0).get("token_ids").size();
        MixedPromptRuns runs = MixedPromptRuns.run(LlmEngine::open, config(),
                MixedPromptRuns.requests(prompts, maxTokens));
        for (int i = 0; i < prompts.size(); i++) {
            int[] alone = runs.alone().get(i).completion().tokenIds();
            assertArrayEquals(alone, runs.batched().get(i).completion().tokenIds(), "batched, prompt " + i);
            assertArrayEquals(alone, runs.preempted().get(i).completion().tokenIds(), "preempted, prompt " + i);
            ReferenceAgreement.assertMatches("prompt " + i, prompts.get(i), runs.batched().get(i),
                    ReferenceAgreement.FLOAT32);
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
