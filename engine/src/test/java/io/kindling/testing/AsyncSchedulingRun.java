package io.kindling.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.core.CompletionOutput;
import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.TokenLogprob;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One workload run with asynchronous scheduling on or off, for each backend's test that the two give the same
 * outputs.
 *
 * @param outputs outputs in the order the engine returned them
 * @param finishedAt the step count at which each came
 * @param preemptions preemptions over the run
 */
public record AsyncSchedulingRun(List<RequestOutput> outputs, List<Integer> finishedAt, long preemptions) {

    /**
     * Runs {@code requests} on an engine that {@code open} opens from {@code config}, aborting {@code abort} once
     * {@code abortAfterSteps} steps have run.
     */
    public static AsyncSchedulingRun run(Function<EngineConfig, LlmEngine> open, EngineConfig config,
                                         List<Request> requests, boolean async, Set<String> abort,
                                         int abortAfterSteps) {
        try (LlmEngine engine = open.apply(config)) {
            engine.setAsyncScheduling(async);
            requests.forEach(engine::addRequest);
            List<RequestOutput> outputs = new ArrayList<>();
            List<Integer> finishedAt = new ArrayList<>();
            for (int step = 0; engine.hasUnfinishedRequests(); step++) {
                if (step == abortAfterSteps) {
                    abort.forEach(engine::abort);
                }
                for (RequestOutput o : engine.step()) {
                    outputs.add(o);
                    finishedAt.add(step);
                }
            }
            assertEquals(0, engine.stats().numRunning());
            return new AsyncSchedulingRun(outputs, finishedAt, engine.stats().numPreemptions());
        }
    }

    /**
     * Asserts that both runs finished the same requests (in the same order where {@code sameOrder}) with equal
     * outputs: tokens, text, finish reasons, logprobs, cumulative logprobs and errors.
     */
    public static void assertSame(AsyncSchedulingRun sync, AsyncSchedulingRun async, boolean sameOrder) {
        assertSame(sync, async, sameOrder, 0);
    }

    /**
     * As {@link #assertSame(AsyncSchedulingRun, AsyncSchedulingRun, boolean)}, but logprobs (the same token ids)
     * may differ by up to {@code logprobTolerance} each, the cumulative logprob by that much per token: where the
     * two runs recompute different tokens after preemption on a backend whose prefill and decode attention round
     * differently.
     */
    public static void assertSame(AsyncSchedulingRun sync, AsyncSchedulingRun async, boolean sameOrder,
                                  double logprobTolerance) {
        List<String> syncIds = sync.outputs().stream().map(RequestOutput::requestId).toList();
        List<String> asyncIds = async.outputs().stream().map(RequestOutput::requestId).toList();
        if (sameOrder) {
            assertEquals(syncIds, asyncIds, "finishing order");
        } else {
            assertEquals(syncIds.stream().sorted().toList(), asyncIds.stream().sorted().toList(), "finished requests");
        }
        for (int i = 0; i < sync.outputs().size(); i++) {
            RequestOutput s = sync.outputs().get(i);
            RequestOutput a = async.outputs().get(asyncIds.indexOf(s.requestId()));
            String id = s.requestId();
            assertArrayEquals(s.promptTokenIds(), a.promptTokenIds(), id);
            assertEquals(s.error(), a.error(), id);
            assertEquals(s.completions().size(), a.completions().size(), id);
            for (int c = 0; c < s.completions().size(); c++) {
                CompletionOutput sc = s.completions().get(c);
                CompletionOutput ac = a.completions().get(c);
                String what = id + " completion " + c;
                assertArrayEquals(sc.tokenIds(), ac.tokenIds(), what);
                assertEquals(sc.text(), ac.text(), what);
                assertEquals(sc.finishReason(), ac.finishReason(), what);
                assertLogprobs(sc, ac, logprobTolerance, what);
                assertEquals(sc.error(), ac.error(), what);
            }
        }
    }

    private static void assertLogprobs(CompletionOutput sync, CompletionOutput async, double tolerance,
                                       String what) {
        if (tolerance == 0) {
            assertEquals(sync.logprobs(), async.logprobs(), what);
            assertEquals(sync.cumulativeLogprob(), async.cumulativeLogprob(), what);
            return;
        }
        assertEquals(sync.logprobs().isPresent(), async.logprobs().isPresent(), what);
        if (sync.logprobs().isPresent()) {
            List<List<TokenLogprob>> s = sync.logprobs().get();
            List<List<TokenLogprob>> a = async.logprobs().get();
            assertEquals(s.size(), a.size(), what);
            for (int t = 0; t < s.size(); t++) {
                assertEquals(s.get(t).size(), a.get(t).size(), what + " token " + t);
                for (int j = 0; j < s.get(t).size(); j++) {
                    String at = what + " token " + t + " logprob " + j;
                    assertEquals(s.get(t).get(j).tokenId(), a.get(t).get(j).tokenId(), at);
                    assertEquals(s.get(t).get(j).logprob(), a.get(t).get(j).logprob(), tolerance, at);
                }
            }
        }
        assertEquals(sync.cumulativeLogprob().isPresent(), async.cumulativeLogprob().isPresent(), what);
        if (sync.cumulativeLogprob().isPresent()) {
            assertEquals(sync.cumulativeLogprob().getAsDouble(), async.cumulativeLogprob().getAsDouble(),
                    tolerance * sync.tokenIds().length, what + " cumulative logprob");
        }
    }
}
