package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.testing.Fixtures;
import io.kindling.testing.ReferenceAgreement;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole CPU engine against Hugging Face transformers (float32, computed by tools/fixtures/make_fixtures.py) on a
 * tiny random-weight checkpoint of each family: prompt ids exactly, greedy tokens until the reference's top-2 margin
 * gets tiny, top-5 logprobs within 1e-2.
 */
class HuggingFaceAgreementTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "llama2-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"})
    void greedyTokensAndLogprobsMatchTransformers(String fixture) {
        Path dir = Fixtures.checkpoint(fixture);
        JsonNode reference = ReferenceAgreement.read(dir.resolve("reference.json"));
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(dir).withDevice("cpu")
                .withKvCacheMemoryBytes(64L << 20))) {
            int compared = ReferenceAgreement.assertCasesMatch(fixture, engine, reference, ReferenceAgreement.FLOAT32);
            int cases = reference.get("cases").size();
            assertTrue(compared >= cases * 4, fixture + ": too few steps compared: " + compared);
        }
    }
}
