package io.kindling.flink;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.table.functions.FunctionContext;

/**
 * The calls of one {@code llm_generate} instance on a TaskManager: per distinct options map, the resolved options
 * (the function's defaults overridden by the map) and a submitter to the engine they name.
 */
final class LlmGenerateCalls implements AutoCloseable {

    private record Call(KindlingOptions options, PromptSubmitter submitter) {
    }

    private final Map<String, String> defaults;
    private final FunctionContext context;
    private final TaskInfo task;
    private final Map<Map<String, String>, Call> calls = new HashMap<>();

    LlmGenerateCalls(Map<String, String> defaults, FunctionContext context) {
        this.defaults = defaults;
        this.context = context;
        this.task = context.getTaskInfo();
    }

    /**
     * The function's defaults, checked where the function is created (the planner's side), copied.
     *
     * @throws InvalidKindlingOptionException naming a bad option
     */
    static Map<String, String> checkedDefaults(Map<String, String> defaults) {
        KindlingOptions.resolve(defaults);
        return Map.copyOf(defaults);
    }

    /**
     * The text for {@code prompt}: null for a null prompt, and for a row the engine cannot serve when
     * {@code on-error} is {@code null}; otherwise such a row completes exceptionally with a {@link KindlingRowException}
     * naming it.
     */
    CompletableFuture<String> generate(String prompt, Map<String, String> overrides) {
        if (prompt == null) {
            return CompletableFuture.completedFuture(null);
        }
        Call call;
        try {
            call = calls.computeIfAbsent(overrides == null ? Map.of() : overrides, this::open);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call.submitter().generate(prompt).thenApply(r -> {
            if (!r.failed()) {
                return r.output().completion().text();
            }
            if (call.options().failOnError()) {
                throw new KindlingRowException("llm_generate: " + RowNames.of(prompt, task.getIndexOfThisSubtask(),
                        task.getNumberOfParallelSubtasks()) + ": " + r.problem()
                        + " (set 'on-error' = 'null' to get null instead)");
            }
            return null;
        });
    }

    private Call open(Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>();
        defaults.forEach((k, v) -> merged.put(canonical(k), v));
        overrides.forEach((k, v) -> merged.put(canonical(k), v));
        KindlingOptions options = KindlingOptions.resolve(merged);
        return new Call(options, PromptSubmitter.open(options, context, "llm_generate"));
    }

    /** A map's key as the defaults spell it, so {@code max_tokens} overrides {@code max-tokens}. */
    private static String canonical(String key) {
        return OptionReader.named(key).map(OptionReader::flinkName).orElse(key);
    }

    @Override
    public void close() {
        calls.values().forEach(c -> c.submitter().close());
        calls.clear();
    }
}
