package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import io.kindling.testing.ReferenceAgreement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Beam search equals transformers' ({@code num_beams = 4}, no sampling) on the random-weight fixtures: the same
 * best beams, in order, with the same scores within 1e-3. References: tools/fixtures/make_beam_references.py.
 */
class BeamSearchReferenceTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "qwen3-tiny"})
    void matchesTransformersBeamSearch(String fixture) throws IOException {
        Path model = Fixtures.checkpoint(fixture);
        check(fixture, EngineConfig.defaults(model).withDevice("cpu").withKvCacheMemoryBytes(32L << 20));
    }

    /**
     * A budget of 8 tokens a step schedules only some beams of a request at a time, so beams wait for their
     * siblings' logits, in a small KV cache of 24 blocks.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "qwen3-tiny"})
    void beamsScheduledApartGiveTheSameResult(String fixture) throws IOException {
        Path model = Fixtures.checkpoint(fixture);
        EngineConfig config = EngineConfig.defaults(model).withDevice("cpu").withMaxNumBatchedTokens(8);
        long bytesPerBlock;
        try (LlmEngine engine = LlmEngine.open(config.withKvCacheMemoryBytes(1L << 20))) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        check(fixture, config.withKvCacheMemoryBytes(24 * bytesPerBlock));
    }

    @Test
    void beamsThatCannotAllFitTheCacheAreRejected() {
        EngineConfig config = EngineConfig.defaults(Fixtures.checkpoint("llama3-tiny")).withDevice("cpu");
        long bytesPerBlock;
        try (LlmEngine engine = LlmEngine.open(config.withKvCacheMemoryBytes(1L << 20))) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        SamplingParams params = SamplingParams.builder().beamWidth(4).maxTokens(12).build();
        try (LlmEngine engine = LlmEngine.open(config.withKvCacheMemoryBytes(12 * bytesPerBlock))) {
            RequestOutput out = engine.generate(List.of(new Request("b", new int[40], params))).get(0);
            assertEquals("beam search with 4 beams of up to 52 tokens (prompt 40 tokens, max_tokens 12) needs 16 KV "
                    + "blocks of 16 tokens, but the KV cache has 12; raise kv_cache_memory (--kv-cache-memory, Spark: "
                    + "kvCacheMemory) or lower max_tokens",
                    out.error().orElseThrow());
        }
    }

    private static EngineStats check(String fixture, EngineConfig config) throws IOException {
        Path model = Fixtures.checkpoint(fixture);
        JsonNode cases = ReferenceAgreement.JSON.readTree(model.resolve("beam_reference.json").toFile())
                .get("cases");
        List<Request> requests = new ArrayList<>();
        for (JsonNode c : cases) {
            List<Integer> stop = new ArrayList<>();
            c.get("stop_token_ids").forEach(t -> stop.add(t.intValue()));
            String es = c.get("early_stopping").asText().toUpperCase(Locale.ROOT);
            SamplingParams params = SamplingParams.builder().beamWidth(c.get("beam_width").intValue())
                    .n(c.get("n").intValue()).lengthPenalty(c.get("length_penalty").doubleValue())
                    .earlyStopping(EarlyStopping.valueOf(es)).maxTokens(c.get("max_tokens").intValue())
                    .stopTokenIds(stop).build();
            requests.add(new Request("c" + requests.size(),
                    ReferenceAgreement.ints(c.get("prompt_token_ids")), params));
        }
        List<RequestOutput> outputs;
        EngineStats stats;
        try (LlmEngine engine = LlmEngine.open(config)) {
            outputs = engine.generate(requests);
            stats = engine.stats();
            assertEquals(stats.numBlocks(), stats.numFreeBlocks(), "every beam freed its blocks");
            assertTrue(stats.kvCache().peakSharedBlocks() > 0);
        }
        for (int i = 0; i < requests.size(); i++) {
            JsonNode beams = cases.get(i).get("beams");
            RequestOutput out = outputs.get(i);
            double lp = requests.get(i).params().lengthPenalty();
            assertEquals(beams.size(), out.completions().size(), "case " + i);
            for (int b = 0; b < beams.size(); b++) {
                CompletionOutput beam = out.completions().get(b);
                String where = fixture + " case " + i + " beam " + b;
                assertArrayEquals(ReferenceAgreement.ints(beams.get(b).get("token_ids")), beam.tokenIds(), where);
                double score = beam.cumulativeLogprob().orElseThrow() / Math.pow(beam.tokenIds().length, lp);
                assertEquals(beams.get(b).get("score").doubleValue(), score, 1e-3, where);
            }
        }
        return stats;
    }
}
