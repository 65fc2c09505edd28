package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** n > 1 on a real model: one prefill, samples forked over shared blocks, each its own seeded generator. */
class ParallelSamplingTest {

    private static final EngineConfig CONFIG = EngineConfig.defaults(Fixtures.checkpoint("llama3-tiny"))
            .withDevice("cpu").withKvCacheMemoryBytes(16L << 20);
    // 37 tokens: the last of 3 blocks of 16 is partly filled, so the samples' first tokens copy it on write
    private static final int[] PROMPT = IntStream.range(0, 37).map(i -> 5 + (i * 97) % 1000).toArray();

    @Test
    void sampleIEqualsTheRequestRunAloneWithSeedPlusI() {
        SamplingParams params = SamplingParams.builder().temperature(1.0).maxTokens(12).ignoreEos(true).seed(1234)
                .logprobs(2).n(4).build();
        RequestOutput together = run(List.of(new Request("n4", PROMPT, params))).get(0);
        RequestOutput again = run(List.of(new Request("n4", PROMPT, params))).get(0);

        assertEquals(4, together.completions().size());
        List<Request> alone = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            alone.add(new Request("s" + i, PROMPT, params.toBuilder().n(1).seed(1234 + i).build()));
        }
        List<RequestOutput> solo = new ArrayList<>();
        for (Request r : alone) {
            solo.add(run(List.of(r)).get(0));
        }
        for (int i = 0; i < 4; i++) {
            CompletionOutput c = together.completions().get(i);
            assertArrayEquals(solo.get(i).completion().tokenIds(), c.tokenIds(), "sample " + i);
            assertEquals(solo.get(i).completion().text(), c.text());
            assertEquals(solo.get(i).completion().logprobs(), c.logprobs());
            assertArrayEquals(again.completions().get(i).tokenIds(), c.tokenIds(), "rerun, sample " + i);
            assertEquals(12, c.tokenIds().length);
        }
        assertEquals(together.completion(), together.completions().get(0));
        for (int i = 1; i < 4; i++) {
            assertNotEquals(List.of(together.completions().get(0).tokenIds()),
                    List.of(together.completions().get(i).tokenIds()));
        }
    }

    @Test
    void samplesShareThePromptBlocksAndComputeItOnce() {
        SamplingParams params = SamplingParams.builder().temperature(1.0).maxTokens(12).ignoreEos(true).seed(7)
                .n(4).build();
        try (LlmEngine engine = LlmEngine.open(CONFIG.withEnablePrefixCaching(false))) {
            engine.generate(List.of(new Request("n4", PROMPT, params)));
            EngineStats stats = engine.stats();
            assertEquals(PROMPT.length, stats.computedPromptTokens());
            // right after the fork, the prompt's 3 blocks (the last partly filled) are shared by 4 samples
            assertEquals(9, stats.kvCache().peakSharedBlocks());
            assertEquals(0, stats.kvCache().sharedBlocks());
            assertEquals(stats.numBlocks(), stats.numFreeBlocks());
        }
    }

    @Test
    void abortingFreesEverySample() {
        SamplingParams params = SamplingParams.builder().temperature(1.0).maxTokens(50).seed(7).n(3).build();
        try (LlmEngine engine = LlmEngine.open(CONFIG)) {
            engine.addRequest(new Request("n3", PROMPT, params));
            engine.step();
            engine.step();
            assertEquals(3, engine.stats().numRunning());
            engine.abort("n3");
            assertEquals(0, engine.stats().numRunning());
            assertEquals(engine.stats().numBlocks(), engine.stats().numFreeBlocks());
            assertFalse(engine.hasUnfinishedRequests());
        }
    }

    private static List<RequestOutput> run(List<Request> requests) {
        try (LlmEngine engine = LlmEngine.open(CONFIG)) {
            return engine.generate(requests);
        }
    }
}
