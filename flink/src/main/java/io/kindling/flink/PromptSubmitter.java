package io.kindling.flink;

import io.kindling.core.FinishReason;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.runtime.EngineLease;
import io.kindling.runtime.RowSeeds;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingParams;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.table.functions.FunctionContext;

/**
 * One function instance's way into its TaskManager's engine: it holds a lease on the engine and submits prompts
 * without waiting, so every row the async operator lets through is in the engine at once. A row's sampler is seeded
 * from the configured seed and its prompt alone ({@link RowSeeds}), so a row replayed after a restore draws the same
 * tokens.
 */
final class PromptSubmitter implements AutoCloseable {

    /** Request ids unique within the JVM, whichever job, slot or function instance submits. */
    private static final AtomicLong REQUESTS = new AtomicLong();

    private final EngineLease lease;
    private final SamplingParams params;
    private final long configuredSeed;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    private PromptSubmitter(EngineLease lease, SamplingParams params, long configuredSeed) {
        this.lease = lease;
        this.params = params;
        this.configuredSeed = configuredSeed;
    }

    /**
     * @param caller names the function in messages: {@code ML_PREDICT}, {@code llm_generate}
     * @throws IllegalArgumentException when the options do not fit the model's sampling defaults
     */
    static PromptSubmitter open(KindlingOptions options, FunctionContext context, String caller) {
        EngineLease lease = TaskManagerEngines.lease(options.engine(), context);
        try {
            return new PromptSubmitter(lease, options.samplingParams(lease.engine().defaultSamplingParams()),
                    options.configuredSeed());
        } catch (InvalidSamplingParamException e) {
            lease.close();
            throw new IllegalArgumentException(caller + ": the options do not fit the model's sampling defaults "
                    + lease.engine().defaultSamplingParams() + ": " + e.getMessage(), e);
        }
    }

    /** The sampling parameters rows get (before their seed): how many completions, beam search or not. */
    SamplingParams params() {
        return params;
    }

    /**
     * Submits one prompt. The future completes with the row's result, or exceptionally when the engine fails or
     * closes (never for a problem of the row itself).
     */
    CompletableFuture<RowResult> generate(String prompt) {
        if (prompt.isEmpty()) {
            // As the CLI and Spark: an empty prompt is the row's error (the tokenizer would make it BOS alone).
            return CompletableFuture.completedFuture(new RowResult(null, 0, "prompt is empty"));
        }
        int[] tokens = lease.engine().tokenizer().encode(prompt);
        String id = "flink-" + REQUESTS.incrementAndGet();
        Request request = new Request(id, tokens, params.toBuilder()
                .seed(RowSeeds.of(configuredSeed, prompt, null)).build());
        inFlight.add(id);
        return lease.engine().submit(request).whenComplete((out, e) -> inFlight.remove(id))
                .thenApply(out -> new RowResult(out, tokens.length, problem(out)));
    }

    private static String problem(RequestOutput out) {
        if (out.error().isPresent() || out.completion().finishReason() == FinishReason.ERROR) {
            return out.error().orElse("the engine returned an error");
        }
        return null;
    }

    /** Aborts what is still in the engine (a cancelled or failed task) and lets go of the engine. */
    @Override
    public void close() {
        for (String id : inFlight) {
            lease.engine().abort(id);
        }
        lease.close();
    }
}
