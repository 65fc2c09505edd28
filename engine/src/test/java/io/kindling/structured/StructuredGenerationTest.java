package io.kindling.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.CompletionOutput;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * Every constrained output is valid, checked by an independent validator ({@link ConstraintSuite}): the suite's
 * JSON schemas, regexes and choices, sampled greedily, at temperature 1, as {@code n = 4} and as beams, on
 * random-weight checkpoints (the worst case: the model wants garbage; Llama 2's SentencePiece vocabulary needs
 * byte-fallback tokens for multi-byte characters, Qwen3's byte-level one has 151k tokens) and on the bundled model
 * (byte-level BPE). At least 1,000 rows
 * per kind, and no row may end incomplete: the token budget closes every output in time.
 */
class StructuredGenerationTest {

    static final Path BUNDLED = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath()
            .normalize();

    /**
     * A way of sampling and how many prompts each constraint gets with it on each model: the random-weight
     * SentencePiece one (32k vocab), the random-weight byte-level one (Qwen3's 151k vocab: a few rows, as each draw
     * walks the whole vocabulary), the bundled one.
     */
    record Mode(String name, SamplingParams params, int randomPrompts, int largeVocabPrompts, int bundledPrompts) {
    }

    static List<Mode> modes(int maxTokens, int scale) {
        SamplingParams base = SamplingParams.builder().maxTokens(maxTokens).build();
        return List.of(
                new Mode("greedy", base, 2 * scale, 1, scale),
                new Mode("temperature 1", base.toBuilder().temperature(1).build(), 4 * scale, 1, 2 * scale),
                new Mode("n = 4", base.toBuilder().temperature(1).n(4).build(), scale, 0, 1),
                new Mode("beams", base.toBuilder().beamWidth(3).n(3).build(), scale, 0, 1));
    }

    @Test
    void everyJsonSchemaOutputParsesAndValidates() {
        List<StructuredOutput> suite = new ArrayList<>(ConstraintSuite.jsonSchemas());
        suite.add(new StructuredOutput.JsonObject());
        assertTrue(suite.size() >= 20, "schemas: " + suite.size());
        assertAllValid(suite, modes(96, 3), 1000);
    }

    @Test
    void everyRegexOutputFullyMatches() {
        assertAllValid(ConstraintSuite.regexes(), modes(48, 7), 1000);
    }

    @Test
    void everyChoiceOutputIsOneOfTheChoices() {
        assertAllValid(ConstraintSuite.choices(), modes(16, 16), 1000);
    }

    @Test
    void minTokensIsRefusedWithAConstraint() {
        InvalidSamplingParamException e = assertThrows(InvalidSamplingParamException.class, () -> SamplingParams
                .builder().minTokens(2).structuredOutput(new StructuredOutput.Regex("a")).build());
        assertEquals("min_tokens", e.param());
        assertEquals("is not supported with structured output (regex)", e.problem());
    }

    private static void assertAllValid(List<StructuredOutput> suite, List<Mode> modes, int minRows) {
        int rows = run(Fixtures.checkpoint("llama2-tiny"), suite, modes, Mode::randomPrompts, true)
                + run(Fixtures.checkpoint("qwen3-tiny"), suite, modes, Mode::largeVocabPrompts, true)
                + run(BUNDLED, suite, modes, Mode::bundledPrompts, false);
        assertTrue(rows >= minRows, "rows checked: " + rows);
    }

    /** Generates and checks every row; returns how many it checked. */
    private static int run(Path model, List<StructuredOutput> suite, List<Mode> modes, ToIntFunction<Mode> prompts,
                           boolean random) {
        SplittableRandom seeds = new SplittableRandom(16);
        List<Request> requests = new ArrayList<>();
        List<StructuredOutput> constraintOf = new ArrayList<>();
        int checked = 0;
        try (LlmEngine engine = LlmEngine.open(EngineConfig.defaults(model).withDevice("cpu"))) {
            String[] words = {"lighthouse:", "battle:", "baize:", "bishop:", "alkali:", "assent:"};
            for (StructuredOutput constraint : suite) {
                for (Mode mode : modes) {
                    for (int i = 0; i < prompts.applyAsInt(mode); i++) {
                        int[] prompt = random ? seeds.ints(3 + seeds.nextInt(4), 300, 20_000).toArray()
                                : engine.tokenizer().encode(words[seeds.nextInt(words.length)]);
                        SamplingParams params = mode.params().toBuilder().seed(seeds.nextLong())
                                .structuredOutput(constraint).build();
                        requests.add(new Request(mode.name() + "/" + requests.size(), prompt, params));
                        constraintOf.add(constraint);
                    }
                }
            }
            List<RequestOutput> outputs = engine.generate(requests);
            for (int r = 0; r < requests.size(); r++) {
                RequestOutput out = outputs.get(r);
                assertEquals(Optional.empty(), out.error(), requests.get(r).requestId());
                for (CompletionOutput c : out.completions()) {
                    String where = model.getFileName() + " " + requests.get(r).requestId() + " "
                            + constraintOf.get(r) + ": " + c.text();
                    assertEquals(Optional.empty(), c.error(), where);
                    assertEquals(Optional.empty(), ConstraintSuite.violation(constraintOf.get(r), c.text()), where);
                    checked++;
                }
            }
        }
        return checked;
    }
}
