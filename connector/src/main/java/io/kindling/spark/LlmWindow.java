package io.kindling.spark;

import io.kindling.backend.BatchLimits;
import io.kindling.core.CompletionOutput;
import io.kindling.core.EngineService;
import io.kindling.core.FinishReason;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.runtime.EngineKey;
import io.kindling.sampling.SamplingParams;
import io.kindling.spark.runtime.ExecutorEngines;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.TaskCompletionListener;
import scala.collection.AbstractIterator;
import scala.collection.Iterator;

/**
 * One partition of an {@link LlmEvalExec}: rows enter a FIFO window of at most {@code maxInFlight} rows whose
 * requests the engine serves in any order, and leave it in input order, with the results appended. Only the window's
 * rows are held; when the task ends early (a LIMIT, a failure, a kill) the requests still in it are aborted.
 */
final class LlmWindow extends AbstractIterator<InternalRow> {

    /** Tells apart the windows of one task (nested calls stack several) in request ids. */
    private static final AtomicLong WINDOWS = new AtomicLong();
    private static final long POLL_MILLIS = 100;

    /**
     * One call of one row: its request, or the reason none was sent ({@code refused}); the whole call is null for a
     * null prompt.
     */
    private record Call(String requestId, String prompt, int promptTokens, CompletableFuture<RequestOutput> future,
                        String refused) {
    }

    /** @param keys each call's key column value, or null */
    private record Pending(long rowIndex, InternalRow row, Call[] calls, String[] keys) {
    }

    /** Prompt characters that name a row without a key column. */
    private static final int EXCERPT = 40;

    /** A call as this task runs it: its engine and sampling defaults. */
    private record Target(LlmCallSpec spec, EngineService engine, SamplingParams params) {

        /** The call's window: as set, or two steps' worth of the engine's batch, so a lone task keeps it full. */
        int maxInFlight() {
            int set = spec.options().maxInFlight();
            return set == BatchLimits.AUTO ? 2 * engine.maxNumSeqs() : set;
        }
    }

    private final TaskContext task;
    private final int partition;
    private final Iterator<InternalRow> input;
    private final UnsafeProjection prompts;
    private final UnsafeProjection output;
    private final List<Target> targets;
    private final Map<EngineService, Integer> peakBlocks = new HashMap<>();
    private final LlmMetrics metrics;
    private final int maxInFlight;
    private final String idPrefix;
    private final ArrayDeque<Pending> window = new ArrayDeque<>();
    private final JoinedRow joined = new JoinedRow();
    private long nextRow;

    LlmWindow(TaskContext task, int partition, Iterator<InternalRow> input, UnsafeProjection prompts,
              UnsafeProjection output, List<LlmCallSpec> calls, LlmMetrics metrics) {
        RowErrorStop.failIfKnown(task);
        this.task = task;
        this.partition = partition;
        this.input = input;
        this.prompts = prompts;
        this.output = output;
        this.metrics = metrics;
        Map<EngineKey, EngineService> engines = new HashMap<>();
        this.targets = calls.stream().map(c -> {
            EngineService engine = engines.computeIfAbsent(c.options().engine(), ExecutorEngines::acquire);
            EngineUsage.begin(metrics, engine);
            peakBlocks.putIfAbsent(engine, 0);
            return new Target(c, engine, samplingParams(c.options(), engine));
        }).toList();
        this.maxInFlight = targets.stream().mapToInt(Target::maxInFlight).min().orElseThrow();
        this.idPrefix = "spark-" + task.taskAttemptId() + "-" + WINDOWS.incrementAndGet() + "-";
        task.addTaskCompletionListener((TaskCompletionListener) context -> finish());
    }

    private static SamplingParams samplingParams(LlmOptions options, EngineService engine) {
        try {
            return options.samplingParams(engine.defaultSamplingParams());
        } catch (InvalidSamplingParamException e) {
            throw new IllegalArgumentException("llm_generate: the options do not fit the model's sampling defaults "
                    + engine.defaultSamplingParams() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean hasNext() {
        fill();
        return !window.isEmpty();
    }

    @Override
    public InternalRow next() {
        fill();
        Pending head = window.peek();
        if (head == null) {
            throw new NoSuchElementException();
        }
        GenericInternalRow results = new GenericInternalRow(head.calls().length);
        for (int i = 0; i < head.calls().length; i++) {
            results.update(i, result(head, i));
        }
        window.poll();
        fill();
        metrics.outputRows().add(1);
        return output.apply(joined.apply(head.row(), results));
    }

    /** Tops the window up from the input. */
    private void fill() {
        while (window.size() < maxInFlight && input.hasNext()) {
            InternalRow row = input.next().copy();
            UnsafeRow promptRow = prompts.apply(row);
            long rowIndex = nextRow++;
            Call[] calls = new Call[targets.size()];
            String[] keys = new String[calls.length];
            for (int i = 0; i < calls.length; i++) {
                int key = calls.length + i;
                int options = 2 * calls.length + i;
                if (promptRow.isNullAt(i)) {
                    metrics.nullPrompts().add(1);
                } else {
                    calls[i] = submit(targets.get(i), promptRow.getUTF8String(i).toString(),
                            promptRow.isNullAt(options) ? Map.of() : strings(promptRow.getMap(options)), rowIndex, i);
                }
                keys[i] = promptRow.isNullAt(key) ? null : promptRow.getUTF8String(key).toString();
            }
            window.add(new Pending(rowIndex, row, calls, keys));
        }
    }

    /** A row's options map: its entries in order, null values kept (they leave the call's setting). */
    private static Map<String, String> strings(MapData map) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int k = 0; k < map.numElements(); k++) {
            out.put(map.keyArray().getUTF8String(k).toString(),
                    map.valueArray().isNullAt(k) ? null : map.valueArray().getUTF8String(k).toString());
        }
        return out;
    }

    private Call submit(Target target, String prompt, Map<String, String> rowOptions, long rowIndex, int callIndex) {
        if (prompt.isEmpty()) {
            // As the CLI: an empty prompt is the row's error (the tokenizer would make it BOS alone); a prompt of
            // whitespace is a prompt.
            return new Call(null, prompt, 0, null, "prompt is empty");
        }
        SamplingParams params;
        try {
            params = rowOptions.isEmpty() ? target.params() : LlmOptions.rowParams(target.params(), rowOptions);
        } catch (InvalidLlmOptionException e) {
            return new Call(null, prompt, 0, null, e.detail());
        }
        // a row's own seed is mixed with its prompt as the configured one is
        long seed = rowOptions.isEmpty() || params.seed().isEmpty() ? target.spec().options().configuredSeed()
                : params.seed().getAsLong();
        int[] tokens = target.engine().tokenizer().encode(prompt);
        params = params.toBuilder().seed(ExecutorEngines.rowSeed(seed, prompt, null)).build();
        String id = idPrefix + rowIndex + "-" + callIndex;
        metrics.requests().add(1);
        metrics.promptTokens().add(tokens.length);
        return new Call(id, prompt, tokens.length, target.engine().submit(new Request(id, tokens, params)), null);
    }

    /** The value of the head row's call {@code i}: waits for it; a row error fails the task unless onError=null. */
    private Object result(Pending row, int i) {
        Call call = row.calls()[i];
        if (call == null) {
            return null;
        }
        Target target = targets.get(i);
        LlmCallSpec spec = target.spec();
        RequestOutput out = call.refused() == null ? await(row, call, i) : null;
        if (out != null) {
            int used = target.engine().stats().numBlocks() - target.engine().stats().numFreeBlocks();
            peakBlocks.merge(target.engine(), used, Math::max);
            metrics.generatedTokens().add(out.completions().stream().mapToLong(c -> c.tokenIds().length).sum());
        }
        if (out == null || out.error().isPresent() || out.completion().finishReason() == FinishReason.ERROR
                || out.completion().error().isPresent()) {
            String problem = out == null ? call.refused() : problem(out);
            if (spec.options().onError() == LlmOptions.OnError.FAIL) {
                String message = "llm_generate: " + rowName(row, i) + ": " + problem + " (set spark.kindling.onError"
                        + "=null to get null instead, or use llm_generate_struct, whose error field records it)";
                RowErrorStop.failed(task, message);
                throw new LlmRowException(message);
            }
            metrics.errorRows().add(1);
            return spec.struct() ? struct(null, FinishReason.ERROR, call.promptTokens(),
                    out == null ? 0 : out.completion().tokenIds().length, problem, null) : null;
        }
        // The first completion is the best beam, or the first sample: what the string variant returns.
        CompletionOutput first = out.completion();
        if (!spec.struct()) {
            return UTF8String.fromString(first.text());
        }
        boolean several = target.params().n() > 1 || target.params().isBeamSearch();
        return struct(first.text(), first.finishReason(), call.promptTokens(), first.tokenIds().length, null,
                several ? choices(out.completions()) : null);
    }

    private RequestOutput await(Pending row, Call call, int i) {
        long start = System.nanoTime();
        try {
            while (true) {
                task.killTaskIfInterrupted();
                try {
                    return call.future().get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // Poll again: a killed task must notice even when the engine is slow.
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            task.killTaskIfInterrupted();
            throw new IllegalStateException("llm_generate: interrupted while waiting on the engine", e);
        } catch (ExecutionException | CancellationException e) {
            throw new IllegalStateException("llm_generate: " + rowName(row, i) + ": the engine did not serve the "
                    + "request: " + e.getMessage(), e);
        } finally {
            metrics.engineWaitNanos().add(System.nanoTime() - start);
        }
    }

    /** The row as a message names it: by its key column, else by position and the start of its prompt. */
    private String rowName(Pending row, int i) {
        String keyColumn = targets.get(i).spec().options().keyColumn();
        if (keyColumn != null && row.keys()[i] != null) {
            return "row " + keyColumn + "=" + row.keys()[i];
        }
        String prompt = row.calls()[i].prompt();
        String excerpt = prompt.length() <= EXCERPT ? prompt : prompt.substring(0, EXCERPT) + "...";
        return "row " + row.rowIndex() + " of partition " + partition + " (prompt \"" + excerpt.replace("\n", "\\n")
                + "\")";
    }

    /** The engine's problem with the row (it does not repeat the internal request id). */
    private static String problem(RequestOutput out) {
        return out.error().or(out.completion()::error).orElse("the engine returned an error");
    }

    /** A value of {@link LlmGenerate#STRUCT_TYPE}. */
    private static InternalRow struct(String text, FinishReason reason, int promptTokens, int completionTokens,
                                      String error, ArrayData choices) {
        return new GenericInternalRow(new Object[] {
            text == null ? null : UTF8String.fromString(text),
            UTF8String.fromString(reason.wireName()),
            promptTokens,
            completionTokens,
            error == null ? null : UTF8String.fromString(error),
            choices});
    }

    /** Every completion in the engine's order (beams best first), as {@link LlmGenerate#CHOICE_TYPE} values. */
    private static ArrayData choices(List<CompletionOutput> completions) {
        Object[] values = new Object[completions.size()];
        for (int k = 0; k < values.length; k++) {
            CompletionOutput c = completions.get(k);
            values[k] = new GenericInternalRow(new Object[] {
                UTF8String.fromString(c.text()),
                UTF8String.fromString(c.finishReason().wireName()),
                c.cumulativeLogprob().isPresent() ? c.cumulativeLogprob().getAsDouble() : null,
                c.tokenIds().length});
        }
        return new GenericArrayData(values);
    }

    /** At task end: aborts what is still in the window and reports the engines' use (once per engine and query). */
    private void finish() {
        for (Pending p : window) {
            for (int i = 0; i < p.calls().length; i++) {
                Call c = p.calls()[i];
                if (c != null && c.future() != null && !c.future().isDone()) {
                    targets.get(i).engine().abort(c.requestId());
                }
            }
        }
        window.clear();
        peakBlocks.forEach((engine, peak) -> EngineUsage.end(metrics, engine, peak));
    }
}
