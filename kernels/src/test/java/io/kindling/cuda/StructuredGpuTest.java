package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.core.CompletionOutput;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.model.Checkpoint;
import io.kindling.sampling.SamplingParams;
import io.kindling.structured.StructuredOutput;
import io.kindling.testing.Fixtures;
import io.kindling.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Structured output through the whole engine on the GPU (masks applied by {@code kd_apply_token_bitmask}): the test
 * suite's regexes, choices and JSON schemas on random-weight fixtures, greedy, at temperature 1, {@code n = 4} and
 * as beams; every output complete, regexes fully matched, choices exact, JSON parsed. The bundle has no native
 * tokenizer, so the engine gets the vocabulary's bytes alone and a text is its tokens' bytes. (Schema validation
 * against a validator library runs in the engine's CPU test, {@code StructuredGenerationTest}.)
 */
class StructuredGpuTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2-tiny", "qwen3-tiny"})
    void everyConstrainedOutputIsValid(String fixture) throws IOException {
        Path model = Fixtures.checkpoint(fixture);
        List<StructuredOutput> suite = new ArrayList<>();
        read("regexes.json").forEach(r -> suite.add(new StructuredOutput.Regex(r.asText())));
        read("choices.json").forEach(list -> {
            List<String> choices = new ArrayList<>();
            list.forEach(c -> choices.add(c.asText()));
            suite.add(new StructuredOutput.Choice(choices));
        });
        read("schemas.json").forEach(s -> suite.add(new StructuredOutput.JsonSchema(s.toString())));
        SamplingParams base = SamplingParams.builder().maxTokens(64).build();
        List<SamplingParams> modes = List.of(base, base.toBuilder().temperature(1).build(),
                base.toBuilder().temperature(1).n(4).build(), base.toBuilder().beamWidth(3).n(3).build());
        SplittableRandom random = new SplittableRandom(5);
        List<Request> requests = new ArrayList<>();
        List<StructuredOutput> constraintOf = new ArrayList<>();
        for (StructuredOutput constraint : suite) {
            for (SamplingParams mode : modes) {
                requests.add(new Request("r" + requests.size(), random.ints(4, 300, 20_000).toArray(),
                        mode.toBuilder().seed(random.nextLong()).structuredOutput(constraint).build()));
                constraintOf.add(constraint);
            }
        }
        Tokenizer vocabulary = Tokenizer.vocabularyOnly(model);
        int checked = 0;
        try (LlmEngine engine = LlmEngine.open(CudaEngineGpuTest.onGpu(model), Checkpoint.open(model), vocabulary)) {
            List<RequestOutput> outputs = engine.generate(requests);
            for (int r = 0; r < requests.size(); r++) {
                assertEquals(Optional.empty(), outputs.get(r).error(), requests.get(r).requestId());
                for (CompletionOutput c : outputs.get(r).completions()) {
                    String text = text(vocabulary, c.tokenIds());
                    String where = fixture + " " + constraintOf.get(r) + ": " + text;
                    assertEquals(Optional.empty(), c.error(), where);
                    assertTrue(valid(constraintOf.get(r), text), where);
                    checked++;
                }
            }
        }
        System.out.printf("%s: %d constrained outputs on the GPU, all valid%n", fixture, checked);
    }

    private static boolean valid(StructuredOutput constraint, String text) {
        if (constraint instanceof StructuredOutput.Regex r) {
            return Pattern.compile(r.pattern()).matcher(text).matches();
        }
        if (constraint instanceof StructuredOutput.Choice c) {
            return c.choices().contains(text);
        }
        try {
            JSON.readTree(text);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The tokens' bytes as UTF-8, special tokens (EOS) left out, as the detokenizer would write them. */
    private static String text(Tokenizer vocabulary, int[] tokenIds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            byte[] bytes = vocabulary.tokenBytes()[id];
            if (bytes != null) {
                out.writeBytes(bytes);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static JsonNode read(String name) throws IOException {
        return JSON.readTree(Files.readString(Fixtures.resource("structured/" + name)));
    }
}
