package io.kindling.flink;

import java.util.Map;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.functions.UserDefinedFunction;

/** One call that makes {@code llm_generate} available to a table environment's SQL and Table API. */
public final class KindlingFunctions {

    private KindlingFunctions() {
    }

    /**
     * Registers {@code llm_generate} as a temporary system function: async in streaming mode, a plain scalar
     * function in batch mode (where the planner takes no async scalar function).
     *
     * @param options the model ({@code model}) and default options, in the catalogue's Flink spellings
     */
    public static void register(TableEnvironment env, Map<String, String> options) {
        env.createTemporarySystemFunction(KindlingModule.LLM_GENERATE, function(env.getConfig(), options));
    }

    static UserDefinedFunction function(ReadableConfig config, Map<String, String> options) {
        return config.get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH
                ? new LlmGenerateBatchFunction(options) : new LlmGenerateFunction(options);
    }
}
