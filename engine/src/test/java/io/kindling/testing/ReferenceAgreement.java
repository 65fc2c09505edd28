package io.kindling.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.TokenLogprob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Agreement with a Hugging Face transformers reference ({@code tools/fixtures/make_fixtures.py}): the same greedy
 * tokens up to the first step whose reference top-2 margin is tiny (there another rounding may rightly pick the
 * runner-up), and the reference's top logprobs within a tolerance at every step up to and including that one. The
 * CPU engine (float32) and the GPU engine (bf16) check with their own {@link Tolerance}.
 */
public final class ReferenceAgreement {

    public static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param tinyMargin a reference step whose top-2 logprob margin is below this is the last one compared
     * @param logprob how far each of the reference's top logprobs may be from the engine's
     */
    public record Tolerance(double tinyMargin, double logprob) {
    }

    /** The CPU engine's float32 agreement. */
    public static final Tolerance FLOAT32 = new Tolerance(1e-3, 1e-2);

    private ReferenceAgreement() {
    }

    public static JsonNode read(Path file) {
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /**
     * Tokenizes every case of a {@code reference.json} (its prompt, or its chat messages) and checks the ids
     * against the reference's, generates all cases together greedily with {@code ignore_eos}, and asserts each
     * agrees.
     *
     * @return the number of steps compared over all cases
     */
    public static int assertCasesMatch(String what, LlmEngine engine, JsonNode reference, Tolerance tolerance) {
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode c : reference.get("cases")) {
            int[] prompt = c.hasNonNull("messages")
                    ? engine.tokenizer().encodeChat(messages(c.get("messages")), engine.maxModelLen())
                    : engine.tokenizer().encode(c.get("prompt").asText());
            assertArrayEquals(ints(c.get("prompt_token_ids")), prompt, what + ": prompt ids of case " + prompts.size());
            prompts.add(prompt);
        }
        return generateAndCompare(what, engine, reference, prompts, tolerance);
    }

    /** As {@link #assertCasesMatch}, from the reference's prompt ids: for checkpoints without a tokenizer. */
    public static int assertCasesMatchFromIds(String what, LlmEngine engine, JsonNode reference,
                                              Tolerance tolerance) {
        List<int[]> prompts = new ArrayList<>();
        reference.get("cases").forEach(c -> prompts.add(ints(c.get("prompt_token_ids"))));
        return generateAndCompare(what, engine, reference, prompts, tolerance);
    }

    private static int generateAndCompare(String what, LlmEngine engine, JsonNode reference, List<int[]> prompts,
                                          Tolerance tolerance) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            SamplingParams greedy = SamplingParams.builder().temperature(0)
                    .maxTokens(reference.get("cases").get(i).get("token_ids").size()).ignoreEos(true).logprobs(5)
                    .build();
            requests.add(new Request(what + "-" + i, prompts.get(i), greedy));
        }
        List<RequestOutput> outputs = engine.generate(requests);
        for (int i = 0; i < prompts.size(); i++) {
            System.out.println(drift(reference.get("cases").get(i), outputs.get(i), tolerance.tinyMargin())
                    .describe(what + " case " + i));
        }
        int compared = 0;
        for (int i = 0; i < prompts.size(); i++) {
            compared += assertMatches(what + " case " + i, reference.get("cases").get(i), outputs.get(i), tolerance);
        }
        return compared;
    }

    /**
     * How far an output is from its reference over the steps {@link #assertMatches} compares, measured rather than
     * asserted, so a run prints every case's figures before the first failure stops it.
     *
     * @param firstMismatch the first step whose token differs, or -1
     * @param marginThere   the reference's top-2 margin at that step
     * @param maxLogprob    the largest difference of the reference's top-1 logprob over the steps that agree
     */
    public record Drift(int steps, int firstMismatch, double marginThere, double maxLogprob) {

        public String describe(String what) {
            return String.format(java.util.Locale.ROOT, "drift %s: %d steps, max |dlogprob| %.4f%s", what, steps,
                    maxLogprob, firstMismatch < 0 ? ", tokens agree"
                            : String.format(java.util.Locale.ROOT, ", first token mismatch at step %d (reference margin %.4f)",
                                    firstMismatch, marginThere));
        }
    }

    public static Drift drift(JsonNode reference, RequestOutput output, double tinyMargin) {
        int[] expected = ints(reference.get("token_ids"));
        int[] actual = output.completion().tokenIds();
        JsonNode margins = reference.get("margins");
        JsonNode refLogprobs = reference.get("logprobs");
        double worst = 0;
        int steps = 0;
        for (int step = 0; step < Math.min(expected.length, actual.length); step++) {
            if (refLogprobs != null && output.completion().logprobs().isPresent()) {
                JsonNode top = refLogprobs.get(step).get(0);
                for (TokenLogprob lp : output.completion().logprobs().get().get(step)) {
                    if (lp.tokenId() == top.get("token_id").asInt()) {
                        worst = Math.max(worst, Math.abs(lp.logprob() - top.get("logprob").asDouble()));
                    }
                }
            }
            if (expected[step] != actual[step]) {
                return new Drift(steps, step, margins.get(step).asDouble(), worst);
            }
            steps++;
            if (margins.get(step).asDouble() < tinyMargin) {
                break;
            }
        }
        return new Drift(steps, -1, 0, worst);
    }

    /**
     * Asserts the tokens up to the first step whose reference margin is tiny and the logprobs (where the reference
     * has them) up to and including it.
     *
     * @return the steps whose tokens were compared
     */
    public static int assertMatches(String what, JsonNode reference, RequestOutput output, Tolerance tolerance) {
        int[] expected = ints(reference.get("token_ids"));
        int[] actual = output.completion().tokenIds();
        JsonNode margins = reference.get("margins");
        JsonNode refLogprobs = reference.get("logprobs");
        assertEquals(expected.length, actual.length, what + ": number of tokens");
        for (int step = 0; step < expected.length; step++) {
            // the logprobs of a step depend only on the tokens before it, which agree so far
            boolean tiny = margins.get(step).asDouble() < tolerance.tinyMargin();
            if (refLogprobs != null) {
                // at a tiny margin the top two may rightly swap: their values are still compared, not their order
                assertLogprobsClose(what + " step " + step, refLogprobs.get(step),
                        output.completion().logprobs().orElseThrow().get(step), tolerance.logprob(), !tiny);
            }
            if (tiny) {
                return step; // this step's token may rightly be the runner-up
            }
            assertEquals(expected[step], actual[step], what + ": token at step " + step);
        }
        return expected.length;
    }

    private static void assertLogprobsClose(String what, JsonNode reference, List<TokenLogprob> actual,
                                            double tolerance, boolean sameTop1) {
        if (sameTop1) {
            assertEquals(reference.get(0).get("token_id").asInt(), actual.get(0).tokenId(),
                    what + ": top-1 logprob id");
        }
        for (JsonNode entry : reference) {
            int id = entry.get("token_id").asInt();
            for (TokenLogprob lp : actual) {
                if (lp.tokenId() == id) {
                    assertEquals(entry.get("logprob").asDouble(), lp.logprob(), tolerance, what + ": logprob of " + id);
                }
            }
        }
    }

    /**
     * An engine's greedy output as a reference case for {@link #assertMatches}: its tokens, its top logprobs and its
     * top-2 margins. Needs at least two logprobs a step. How another configuration of the engine (tensor parallel)
     * is held to the single-device engine by the same margin-aware rule.
     */
    public static JsonNode asReference(RequestOutput output) {
        var node = JSON.createObjectNode();
        var tokens = node.putArray("token_ids");
        var margins = node.putArray("margins");
        var logprobs = node.putArray("logprobs");
        for (int id : output.completion().tokenIds()) {
            tokens.add(id);
        }
        for (List<TokenLogprob> step : output.completion().logprobs().orElseThrow()) {
            margins.add(step.get(0).logprob() - step.get(1).logprob());
            var top = logprobs.addArray();
            step.forEach(lp -> top.addObject().put("token_id", lp.tokenId()).put("logprob", lp.logprob()));
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> messages(JsonNode node) {
        return JSON.convertValue(node, List.class);
    }
}
