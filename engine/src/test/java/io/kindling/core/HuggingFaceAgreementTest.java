package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.TokenLogprob;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole CPU engine against Hugging Face transformers (float32, computed by tools/fixtures/make_fixtures.py) on a
 * tiny random-weight checkpoint of each family: prompt ids exactly, greedy tokens until the reference's top-2 margin
 * gets tiny, top-5 logprobs within 1e-2.
 */
class HuggingFaceAgreementTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "llama2-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"})
    void greedyTokensAndLogprobsMatchTransformers(String fixture) throws IOException {
        Path dir = Fixtures.checkpoint(fixture);
        JsonNode reference = JSON.readTree(dir.resolve("reference.json").toFile());
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(dir).withDevice("cpu")
                .withKvCacheMemoryBytes(64L << 20))) {
            List<Request> requests = new ArrayList<>();
            List<JsonNode> cases = new ArrayList<>();
            for (JsonNode c : reference.get("cases")) {
                int[] expectedPrompt = ints(c.get("prompt_token_ids"));
                int[] prompt = c.hasNonNull("messages")
                        ? engine.tokenizer().encodeChat(messages(c.get("messages")))
                        : engine.tokenizer().encode(c.get("prompt").asText());
                assertArrayEquals(expectedPrompt, prompt, fixture + ": prompt ids of case " + cases.size());
                int steps = c.get("token_ids").size();
                SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(steps).ignoreEos(true)
                        .logprobs(5).build();
                requests.add(new Request(fixture + "-" + cases.size(), prompt, greedy));
                cases.add(c);
            }
            List<RequestOutput> outputs = engine.generate(requests);
            int comparedSteps = 0;
            for (int i = 0; i < cases.size(); i++) {
                comparedSteps += assertMatches(fixture + " case " + i, cases.get(i), outputs.get(i));
            }
            assertTrue(comparedSteps >= cases.size() * 4, fixture + ": too few steps compared: " + comparedSteps);
        }
    }

    /** Asserts agreement up to and including the first step whose reference margin is tiny; returns steps compared. */
    static int assertMatches(String what, JsonNode reference, RequestOutput output) {
        int[] expected = ints(reference.get("token_ids"));
        int[] actual = output.completion().tokenIds();
        List<List<TokenLogprob>> logprobs = output.completion().logprobs().orElseThrow();
        JsonNode margins = reference.get("margins");
        JsonNode refLogprobs = reference.get("logprobs");
        assertEquals(expected.length, actual.length, what + ": number of tokens");
        for (int step = 0; step < expected.length; step++) {
            assertEquals(expected[step], actual[step], what + ": token at step " + step);
            if (refLogprobs != null) {
                assertLogprobsClose(what + " step " + step, refLogprobs.get(step), logprobs.get(step));
            }
            if (margins.get(step).asDouble() < 1e-3) {
                return step + 1;
            }
        }
        return expected.length;
    }

    private static void assertLogprobsClose(String what, JsonNode reference, List<TokenLogprob> actual) {
        assertEquals(reference.get(0).get("token_id").asInt(), actual.get(0).tokenId(), what + ": top-1 logprob id");
        for (JsonNode entry : reference) {
            int id = entry.get("token_id").asInt();
            for (TokenLogprob lp : actual) {
                if (lp.tokenId() == id) {
                    assertEquals(entry.get("logprob").asDouble(), lp.logprob(), 1e-2, what + ": logprob of " + id);
                }
            }
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> messages(JsonNode node) {
        return JSON.convertValue(node, List.class);
    }
}
