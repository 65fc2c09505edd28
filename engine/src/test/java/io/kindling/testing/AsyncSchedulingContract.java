package io.kindling.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous scheduling must not change any output, on any backend that takes deferred input ids: the same
 * requests give the same outputs (tokens, text, finish reasons, logprobs, errors), finishing in the same order, with
 * it on and off; with aborts mid-run, and under preemption. Each backend's test supplies the engine and requests
 * that stop at different steps and fall back to synchronous steps where they must (n > 1, beam search).
 */
public abstract class AsyncSchedulingContract {

    /** The request ids {@link #abortsMidRunLeaveTheOthersAlone} aborts after 4 steps. */
    protected static final Set<String> ABORTED = Set.of("greedy3", "n3", "seeded2");

    /** An engine config with room for every request at once. */
    protected abstract EngineConfig config();

    protected abstract LlmEngine open(EngineConfig config);

    /** Requests with the ids of {@link #ABORTED} among them, at least one of them beam search. */
    protected abstract List<Request> requests();

    /** {@code config()} with a KV cache and step budget small enough that the requests preempt each other. */
    protected abstract EngineConfig preempting(long kvCacheBytesPerBlock);

    /**
     * How far a logprob may move under preemption: a finished sequence holds its blocks a step longer with it on,
     * so the two runs preempt, and recompute, different tokens. 0 where recomputation gives the same bits.
     */
    protected double preemptedLogprobTolerance() {
        return 0;
    }

    @Test
    public void mixedRequestsGiveTheSameOutputsInTheSameOrder() {
        List<Request> requests = requests();
        AsyncSchedulingRun sync = run(config(), requests, false, Set.of());
        AsyncSchedulingRun async = run(config(), requests, true, Set.of());
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertTrue(sync.finishedAt().stream().distinct().count() > 5, "requests must finish at different steps: "
                + sync.finishedAt());
    }

    @Test
    public void abortsMidRunLeaveTheOthersAlone() {
        List<Request> requests = requests();
        AsyncSchedulingRun sync = run(config(), requests, false, ABORTED);
        AsyncSchedulingRun async = run(config(), requests, true, ABORTED);
        AsyncSchedulingRun.assertSame(sync, async, true);
        assertFalse(async.outputs().stream().anyMatch(o -> ABORTED.contains(o.requestId())));
    }

    @Test
    public void preemptionUnderASmallCacheGivesTheSameOutputs() {
        long bytesPerBlock;
        try (LlmEngine engine = open(config())) {
            bytesPerBlock = engine.stats().kvCacheBytesPerBlock();
        }
        EngineConfig small = preempting(bytesPerBlock);
        List<Request> requests = requests().stream().filter(r -> !r.params().isBeamSearch()).toList();
        AsyncSchedulingRun sync = run(small, requests, false, Set.of());
        AsyncSchedulingRun async = run(small, requests, true, Set.of());
        assertTrue(sync.preemptions() > 0 && async.preemptions() > 0, "the small cache must preempt: "
                + sync.preemptions() + " and " + async.preemptions());
        // the preemptions themselves may differ, so the finishing order may too; each output may not
        AsyncSchedulingRun.assertSame(sync, async, false, preemptedLogprobTolerance());
    }

    private AsyncSchedulingRun run(EngineConfig config, List<Request> requests, boolean async, Set<String> abort) {
        return AsyncSchedulingRun.run(this::open, config, requests, async, abort, 4);
    }
}
