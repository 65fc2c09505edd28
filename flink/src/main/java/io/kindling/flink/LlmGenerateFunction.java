package io.kindling.flink;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.table.functions.AsyncScalarFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * {@code llm_generate(prompt)} and {@code llm_generate(prompt, MAP['max_tokens', '64'])}: the text the model
 * generates for a prompt, as an async scalar function, so the rows the operator lets through are in the engine at
 * once. The model and default options are the function's (given when it is registered); a call's map overrides
 * them. A null prompt gives null; a row the engine cannot serve fails the task, or gives null with
 * {@code 'on-error' = 'null'}.
 */
public final class LlmGenerateFunction extends AsyncScalarFunction {

    private final Map<String, String> defaults;
    private transient FunctionContext context;
    private transient TaskInfo task;
    /** One submitter per distinct call map: their options differ, maybe their engine too. */
    private transient Map<Map<String, String>, Call> calls;

    private record Call(KindlingOptions options, PromptSubmitter submitter) {
    }

    /**
     * @param defaults the model ({@code model}) and default options, in the catalogue's Flink spellings
     * @throws InvalidKindlingOptionException naming a bad option
     */
    public LlmGenerateFunction(Map<String, String> defaults) {
        KindlingOptions.resolve(defaults);
        this.defaults = Map.copyOf(defaults);
    }

    @Override
    public void open(FunctionContext context) {
        this.context = context;
        this.task = context.getTaskInfo();
        this.calls = new HashMap<>();
    }

    public void eval(CompletableFuture<String> result, String prompt) {
        eval(result, prompt, Map.of());
    }

    public void eval(CompletableFuture<String> result, String prompt, Map<String, String> options) {
        if (prompt == null) {
            result.complete(null);
            return;
        }
        Call call;
        try {
            call = calls.computeIfAbsent(options == null ? Map.of() : options, this::open);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
            return;
        }
        call.submitter().generate(prompt).whenComplete((r, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else if (!r.failed()) {
                result.complete(r.output().completion().text());
            } else if (call.options().failOnError()) {
                result.completeExceptionally(new KindlingRowException("llm_generate: " + RowNames.of(prompt,
                        task.getIndexOfThisSubtask(), task.getNumberOfParallelSubtasks()) + ": " + r.problem()
                        + " (set 'on-error' = 'null' to get null instead)"));
            } else {
                result.complete(null);
            }
        });
    }

    private Call open(Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>();
        defaults.forEach((k, v) -> merged.put(OptionReader.named(k).map(OptionReader::flinkName).orElse(k), v));
        overrides.forEach((k, v) -> merged.put(OptionReader.named(k).map(OptionReader::flinkName).orElse(k), v));
        KindlingOptions options = KindlingOptions.resolve(merged);
        return new Call(options, PromptSubmitter.open(options, context, "llm_generate"));
    }

    @Override
    public void close() {
        if (calls != null) {
            calls.values().forEach(c -> c.submitter().close());
            calls.clear();
        }
    }
}
