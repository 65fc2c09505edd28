package io.kindling.flink;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.table.functions.AsyncScalarFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * {@code llm_generate(prompt)} and {@code llm_generate(prompt, MAP['max_tokens', '64'])} in streaming mode: the text
 * the model generates for a prompt, as an async scalar function, so the rows the operator lets through
 * ({@code table.exec.async-scalar.max-concurrent-operations}) are in the engine at once. The model and default
 * options are the function's (given when it is registered); a call's map overrides them. A null prompt gives null;
 * a row the engine cannot serve fails the task, or gives null with {@code 'on-error' = 'null'}.
 */
public final class LlmGenerateFunction extends AsyncScalarFunction {

    private final Map<String, String> defaults;
    private transient LlmGenerateCalls calls;

    /**
     * @param defaults the model ({@code model}) and default options, in the catalogue's Flink spellings
     * @throws InvalidKindlingOptionException naming a bad option
     */
    public LlmGenerateFunction(Map<String, String> defaults) {
        this.defaults = LlmGenerateCalls.checkedDefaults(defaults);
    }

    @Override
    public void open(FunctionContext context) {
        calls = new LlmGenerateCalls(defaults, context);
    }

    public void eval(CompletableFuture<String> result, String prompt) {
        eval(result, prompt, Map.of());
    }

    public void eval(CompletableFuture<String> result, String prompt, Map<String, String> options) {
        calls.generate(prompt, options).whenComplete((text, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(text);
            }
        });
    }

    @Override
    public void close() {
        if (calls != null) {
            calls.close();
        }
    }
}
