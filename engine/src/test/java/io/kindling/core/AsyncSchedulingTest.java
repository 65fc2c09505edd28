package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import io.kindling.structured.StructuredOutput;
import io.kindling.testing.AsyncSchedulingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous scheduling must not change any output: the same requests give the same RequestOutputs (text, tokens,
 * finish reasons, logprobs, beam scores, errors), finishing in the same order, with it on and off; over sequences
 * that stop at different steps (max_tokens, stop token ids, stop strings), penalties, n > 1, beam search and
 * structured output (which fall back to synchronous steps where they must), aborts mid-run and preemption.
 */
class AsyncSchedulingTest {

    static final Path MODEL = BundledModelTest.MODEL;

    @Test
    void mixedRequestsGiveTheSameOutputsInTheSameOrder() {
        List<Request> requests = requests();
        AsyncSchedulingRun sync = run(config(), requests, false, Set.of(), 0);
        AsyncSchedulingRun async = run(config(), requests, true, Set.of(), 0);
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertTrue(sync.finishedAt().stream().distinct().count() > 5, "requests must finish at different steps: "
                + sync.finishedAt());
    }

    @Test
    void abortsMidRunLeaveTheOthersAlone() {
        List<Request> requests = requests();
        Set<String> aborted = Set.of("greedy3", "n3", "seeded2");
        AsyncSchedulingRun sync = run(config(), requests, false, aborted, 4);
        AsyncSchedulingRun async = run(config(), requests, true, aborted, 4);
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertFalse(async.outputs().stream().anyMatch(o -> aborted.contains(o.requestId())));
    }

    @Test
    void preemptionUnderASmallCacheGivesTheSameOutputs() {
        long bytesPerBlock;
        try (LlmEngine engine = LlmEngine.open(config())) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        EngineConfig small = config().withKvCacheMemoryBytes(12 * bytesPerBlock).withMaxNumBatchedTokens(64);
        List<Request> requests = requests().stream().filter(r -> !r.params().isBeamSearch()).toList();
        AsyncSchedulingRun sync = run(small, requests, false, Set.of(), 0);
        AsyncSchedulingRun async = run(small, requests, true, Set.of(), 0);
        assertTrue(sync.preemptions() > 0 && async.preemptions() > 0, "the small cache must preempt: "
                + sync.preemptions() + " and " + async.preemptions());
        // the preemptions themselves may differ (a finished sequence holds its blocks a step longer), so the
        // finishing order may too; each output may not
        AsyncSchedulingRun.assertSame(sync, async, false);
    }

    private static AsyncSchedulingRun run(EngineConfig config, List<Request> requests, boolean async,
                                          Set<String> abort, int abortAfterSteps) {
        return AsyncSchedulingRun.run(LlmEngine::open, config, requests, async, abort, abortAfterSteps);
    }

    private static EngineConfig config() {
        return EngineConfig.defaults(MODEL).withDevice("cpu").withNumThreads(2).withKvCacheMemoryBytes(16L << 20);
    }

    private static List<Request> requests() {
        List<Request> requests = new ArrayList<>();
        String[] prompts = {"The cat sat on the", "A word means", "Define: river", "Once upon a time", "Numbers:"};
        int[] stopToken = stopTokenOf(prompts[1]);
        try (LlmEngine engine = LlmEngine.open(config())) {
            for (int i = 0; i < 4; i++) {
                requests.add(request(engine, "greedy" + i, prompts[i % prompts.length], SamplingParams.builder()
                        .temperature(0).maxTokens(6 + 9 * i).ignoreEos(i % 2 == 0).logprobs(2)));
            }
            for (int i = 0; i < 3; i++) {
                requests.add(request(engine, "seeded" + i, prompts[(i + 2) % prompts.length], SamplingParams.builder()
                        .temperature(0.9).topP(0.9).seed(100 + i).maxTokens(30).presencePenalty(0.5)
                        .frequencyPenalty(0.3).repetitionPenalty(1.1).logprobs(1)));
            }
            requests.add(request(engine, "stopToken", prompts[1], SamplingParams.builder().temperature(0)
                    .maxTokens(40).ignoreEos(true).stopTokenIds(List.of(stopToken[0]))));
            for (int i = 0; i < 2; i++) {
                requests.add(request(engine, "stopString" + i, prompts[i + 3], SamplingParams.builder()
                        .temperature(0.7).seed(7 + i).maxTokens(40).stop(List.of(i == 0 ? "e" : " "))));
            }
            requests.add(request(engine, "n3", prompts[0], SamplingParams.builder().temperature(1.0).seed(5).n(3)
                    .maxTokens(20).logprobs(1)));
            requests.add(request(engine, "beam", prompts[2], SamplingParams.builder().beamWidth(3).n(2)
                    .maxTokens(12)));
            requests.add(request(engine, "choice", prompts[3], SamplingParams.builder().temperature(0.8).seed(3)
                    .maxTokens(10).structuredOutput(new StructuredOutput.Choice(List.of("yes", "no", "maybe")))));
            requests.add(request(engine, "regex", prompts[4], SamplingParams.builder().temperature(0.8).seed(4)
                    .maxTokens(16).structuredOutput(new StructuredOutput.Regex("[a-z]+ [0-9]{2}"))));
        }
        return requests;
    }

    /** The greedy continuation's fourth token, to stop at. */
    private static int[] stopTokenOf(String prompt) {
        try (LlmEngine engine = LlmEngine.open(config())) {
            int[] ids = engine.tokenizer().encode(prompt);
            RequestOutput out = engine.generate(List.of(new Request("probe", ids, SamplingParams.builder()
                    .temperature(0).maxTokens(8).ignoreEos(true).build()))).get(0);
            return new int[] {out.completion().tokenIds()[3]};
        }
    }

    private static Request request(LlmEngine engine, String id, String prompt, SamplingParams.Builder params) {
        return new Request(id, engine.tokenizer().encode(prompt), params.build());
    }
}
