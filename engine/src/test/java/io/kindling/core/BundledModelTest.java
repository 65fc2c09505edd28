package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shipped model (examples/models/kindling-define-6m) on the CPU engine against its transformers reference. */
class BundledModelTest {

    static final Path MODEL = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath().normalize();

    @Test
    void greedyOutputsMatchTransformers() throws IOException {
        JsonNode reference = HuggingFaceAgreementTest.JSON.readTree(MODEL.resolve("reference.json").toFile());
        List<JsonNode> cases = new ArrayList<>();
        reference.get("cases").forEach(cases::add);
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(MODEL).withDevice("cpu"))) {
            List<Request> requests = new ArrayList<>();
            for (JsonNode c : cases) {
                int[] prompt = engine.tokenizer().encode(c.get("prompt").asText());
                assertArrayEquals(HuggingFaceAgreementTest.ints(c.get("prompt_token_ids")), prompt);
                requests.add(new Request(c.get("prompt").asText(), prompt, SamplingParams.builder().temperature(0)
                        .maxTokens(c.get("token_ids").size()).ignoreEos(true).logprobs(1).build()));
            }
            List<RequestOutput> outputs = engine.generate(requests);
            for (int i = 0; i < cases.size(); i++) {
                HuggingFaceAgreementTest.assertMatches(cases.get(i).get("prompt").asText(), cases.get(i), outputs.get(i));
            }
        }
    }

    @Test
    void definesAWordAndStopsAtEos() {
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(MODEL).withDevice("cpu"))) {
            RequestOutput out = engine.generate(List.of(new Request("lighthouse", engine.tokenizer().encode("lighthouse:"),
                    SamplingParams.builder().temperature(0).maxTokens(64).build()))).get(0);
            assertEquals(" A house in which the lighthouses are kept.", out.completion().text());
            assertEquals(FinishReason.STOP, out.completion().finishReason());
        }
    }
}
