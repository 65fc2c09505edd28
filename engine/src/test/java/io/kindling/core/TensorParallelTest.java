package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.backend.TensorParallelException;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import io.kindling.testing.MixedPromptRuns;
import io.kindling.testing.ReferenceAgreement;
import io.kindling.testing.ReferenceAgreement.Tolerance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU engine split over {@code tensor_parallel_size} ranks against the same engine on one: the o_proj and
 * down_proj sums are added in another order, so the logits differ by float32 rounding only. Held to the margin-aware
 * rule of {@link ReferenceAgreement} with the single-rank engine as the reference.
 */
class TensorParallelTest {

    /** Rounding of a reordered float32 sum: far below the margins a token choice hangs on. */
    private static final Tolerance SPLIT = new Tolerance(1e-3, 1e-4);

    private static EngineConfig config(String fixture, int tensorParallelSize) {
        return EngineConfig.defaults(Fixtures.checkpoint(fixture)).withDevice("cpu").withKvCacheMemoryBytes(16L << 20)
                .withTensorParallelSize(tensorParallelSize);
    }

    /** Every fixture whose KV heads the size divides (mistral-tiny's single KV head is refused below). */
    @ParameterizedTest(name = "{0} over {1} ranks")
    @CsvSource({"llama3-tiny, 2", "llama2-tiny, 2", "llama2-tiny, 4", "qwen2-tiny, 2", "qwen3-tiny, 2"})
    void greedyTokensAndLogprobsMatchOneRank(String fixture, int size) {
        Path dir = Fixtures.checkpoint(fixture);
        List<Request> requests = new ArrayList<>();
        for (JsonNode c : ReferenceAgreement.read(dir.resolve("reference.json")).get("cases")) {
            requests.add(new Request("case-" + requests.size(), ReferenceAgreement.ints(c.get("prompt_token_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(24).ignoreEos(true).logprobs(5).build()));
        }
        List<RequestOutput> single;
        try (LlmEngine engine = LlmEngine.open(config(fixture, 1))) {
            single = engine.generate(requests);
        }
        try (LlmEngine engine = LlmEngine.open(config(fixture, size))) {
            assertTrue(engine.device().contains("tensor_parallel_size " + size), engine.device());
            List<RequestOutput> split = engine.generate(requests);
            int compared = 0;
            for (int i = 0; i < requests.size(); i++) {
                compared += ReferenceAgreement.assertMatches(fixture + " case " + i,
                        ReferenceAgreement.asReference(single.get(i)), split.get(i), SPLIT);
            }
            assertTrue(compared >= requests.size() * 8, fixture + ": too few steps compared: " + compared);
        }
    }

    @Test
    void theKvCacheIsSplitNotGrown() {
        try (LlmEngine one = LlmEngine.open(config("llama3-tiny", 1));
             LlmEngine two = LlmEngine.open(config("llama3-tiny", 2))) {
            assertEquals(one.stats().kvCacheBytesPerBlock(), two.stats().kvCacheBytesPerBlock());
            assertEquals(one.stats().numBlocks(), two.stats().numBlocks());
        }
    }

    @Test
    void aloneBatchedAndPreemptedGiveIdenticalTokensOverTwoRanks() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        List<JsonNode> prompts = MixedPromptRuns.prompts(model.resolve("mixed32.json"));
        MixedPromptRuns.run(LlmEngine::open, config("llama3-tiny", 2),
                MixedPromptRuns.requests(prompts, 12)).assertIdentical();
    }

    @Test
    void aSizeThatDoesNotDivideTheKvHeadsIsRefusedNamingBoth() {
        TensorParallelException e = assertThrows(TensorParallelException.class,
                () -> LlmEngine.open(config("mistral-tiny", 2)).close());
        assertEquals("tensor_parallel_size: 2 is more than num_key_value_heads 1: replicating KV heads across ranks "
                + "(as vLLM does) is not supported; use at most 1", e.getMessage());
    }
}
