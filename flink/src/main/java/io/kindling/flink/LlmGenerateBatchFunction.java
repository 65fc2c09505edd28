package io.kindling.flink;

import java.util.Map;
import java.util.concurrent.CompletionException;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code llm_generate} in batch mode, where Flink's planner takes no async scalar function: a plain scalar function
 * that waits for each row, so a subtask has one row in the engine at a time (the engine still batches the rows of
 * all subtasks). For throughput in batch mode, {@code ML_PREDICT} is asynchronous there too.
 */
public final class LlmGenerateBatchFunction extends ScalarFunction {

    private final Map<String, String> defaults;
    private transient LlmGenerateCalls calls;

    /**
     * @param defaults the model ({@code model}) and default options, in the catalogue's Flink spellings
     * @throws InvalidKindlingOptionException naming a bad option
     */
    public LlmGenerateBatchFunction(Map<String, String> defaults) {
        this.defaults = LlmGenerateCalls.checkedDefaults(defaults);
    }

    @Override
    public void open(FunctionContext context) {
        calls = new LlmGenerateCalls(defaults, context);
    }

    public String eval(String prompt) {
        return eval(prompt, Map.of());
    }

    public String eval(String prompt, Map<String, String> options) {
        try {
            return calls.generate(prompt, options).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    @Override
    public void close() {
        if (calls != null) {
            calls.close();
        }
    }
}
