package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.TokenLogprob;
import io.kindling.testing.Fixtures;
import io.kindling.testing.ReferenceAgreement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Prefix caching on real models: it must change how much is computed, never what comes out. Cached K/V were
 * computed in other batches, in other steps, or by a sequence admitted in the same step.
 */
class PrefixCachingEngineTest {

    @Test
    void cachingOnAndOffGiveIdenticalGreedyOutputsOnTheFixture() throws IOException {
        Path model = Fixtures.checkpoint("llama3-tiny");
        List<int[]> base = new ArrayList<>();
        ReferenceAgreement.JSON.readTree(model.resolve("mixed32.json").toFile()).get("prompts")
                .forEach(p -> base.add(ReferenceAgreement.ints(p.get("prompt_token_ids"))));
        List<int[]> prompts = new ArrayList<>(base);
        int[] prefix = base.get(6); // 257 tokens
        for (int[] p : base) {
            prompts.add(concat(prefix, p)); // a shared prefix: 16 full blocks, then a partial one
        }
        prompts.add(base.get(1)); // a duplicate: a full hit but for its last token's block
        prompts.add(Arrays.copyOf(prefix, 256)); // block-aligned and cached whole

        EngineConfig config = EngineConfig.defaults(model).withDevice("cpu").withKvCacheMemoryBytes(64L << 20);
        Run off = run(config.withEnablePrefixCaching(false), prompts, 12);
        Run on = run(config, prompts, 12);
        long bytesPerBlock = on.stats.kvCacheBytesPerBlock();
        Run preempted = run(config.withMaxNumBatchedTokens(256).withKvCacheMemoryBytes(48 * bytesPerBlock), prompts, 12);

        assertEquals(off.stats.promptTokens(), off.stats.computedPromptTokens());
        assertEquals(0, off.stats.kvCache().hitTokens());
        assertTrue(on.stats.computedPromptTokens() < off.stats.computedPromptTokens() * 0.7,
                on.stats.computedPromptTokens() + " of " + off.stats.computedPromptTokens());
        assertTrue(preempted.stats.numPreemptions() > 0, "the small KV budget must force preemption");
        assertTrue(preempted.stats.kvCache().hitTokens() > 0);
        assertSameOutputs(off, on, "on");
        assertSameOutputs(off, preempted, "on, preempted");
    }

    @Test
    void cachingOnAndOffGiveIdenticalGreedyOutputsOnTheBundledModel() {
        EngineConfig config = EngineConfig.defaults(BundledModelTest.MODEL).withDevice("cpu")
                .withKvCacheMemoryBytes(64L << 20);
        List<int[]> prompts = new ArrayList<>();
        try (LlmEngine engine = LlmEngine.open(config)) {
            String fewShot = "lighthouse: A tower with a light that guides ships at night.\n"
                    + "to whisper: To speak softly, under the breath.\n"
                    + "ocean: The great body of salt water that covers most of the earth.\n";
            for (String word : List.of("apple:", "ocean:", "to run:", "philosophy:", "lighthouse:", "to whisper:")) {
                prompts.add(engine.tokenizer().encode(fewShot + word));
                prompts.add(engine.tokenizer().encode(word));
            }
        }
        Run off = run(config.withEnablePrefixCaching(false), prompts, 24);
        Run on = run(config, prompts, 24);

        assertTrue(on.stats.kvCache().hitTokens() >= 5 * 32, on.stats.kvCache().toString());
        assertSameOutputs(off, on, "on");
    }

    @Test
    void aSharedPrefixOf500TokensIsComputedOncePerEngineNotOncePerRow() {
        Path model = Fixtures.checkpoint("llama3-tiny");
        Random random = new Random(500);
        int[] prefix = random.ints(500, 0, 128_000).toArray();
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            prompts.add(concat(prefix, random.ints(1 + random.nextInt(8), 0, 128_000).toArray()));
        }
        EngineConfig config = EngineConfig.defaults(model).withDevice("cpu").withKvCacheMemoryBytes(64L << 20);
        Run on = run(config, prompts, 4);
        // greedy outputs do not depend on the batch: the first rows alone, uncached, are the reference
        Run off = run(config.withEnablePrefixCaching(false), prompts.subList(0, 20), 4);

        long promptTokens = on.stats.promptTokens();
        // the prefix's 31 full blocks once; then each row its own tail: the prefix's last 4 tokens and its suffix
        assertEquals(496 + (promptTokens - 200 * 496), on.stats.computedPromptTokens());
        assertTrue(on.stats.computedPromptTokens() <= promptTokens / 10,
                on.stats.computedPromptTokens() + " of " + promptTokens);
        assertEquals(199 * 496, on.stats.kvCache().hitTokens());
        assertSameOutputs(off, on, "on");
    }

    private record Run(List<RequestOutput> outputs, EngineStats stats) {
    }

    private static Run run(EngineConfig config, List<int[]> prompts, int maxTokens) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new Request("r" + i, prompts.get(i), SamplingParams.builder().temperature(0)
                    .maxTokens(maxTokens).ignoreEos(true).logprobs(1).build()));
        }
        try (LlmEngine engine = LlmEngine.open(config)) {
            List<RequestOutput> outputs = engine.generate(requests);
            return new Run(outputs, engine.stats());
        }
    }

    /** The outputs of {@code expected} and as many first ones of {@code actual} are the same. */
    private static void assertSameOutputs(Run expected, Run actual, String what) {
        assertTrue(expected.outputs.size() <= actual.outputs.size());
        for (int i = 0; i < expected.outputs.size(); i++) {
            CompletionOutputs e = new CompletionOutputs(expected.outputs.get(i));
            CompletionOutputs a = new CompletionOutputs(actual.outputs.get(i));
            assertArrayEquals(e.tokenIds, a.tokenIds, what + ", prompt " + i);
            for (int t = 0; t < e.logprobs.size(); t++) {
                assertEquals(e.logprobs.get(t).get(0).logprob(), a.logprobs.get(t).get(0).logprob(), 1e-4,
                        what + ", prompt " + i + ", token " + t);
            }
        }
    }

    private record CompletionOutputs(int[] tokenIds, List<List<TokenLogprob>> logprobs) {
        CompletionOutputs(RequestOutput o) {
            this(o.completion().tokenIds(), o.completion().logprobs().orElseThrow());
        }
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(Arrays.stream(a), Arrays.stream(b)).toArray();
    }
}
