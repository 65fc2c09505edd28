package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.ReferenceAgreement;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shipped model (examples/models/kindling-define-6m) on the CPU engine against its transformers reference. */
class BundledModelTest {

    static final Path MODEL = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath().normalize();

    @Test
    void greedyOutputsMatchTransformers() {
        JsonNode reference = ReferenceAgreement.read(MODEL.resolve("reference.json"));
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(MODEL).withDevice("cpu"))) {
            ReferenceAgreement.assertCasesMatch("kindling-define-6m", engine, reference, ReferenceAgreement.FLOAT32);
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
