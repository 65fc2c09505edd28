package io.kindling.flink;

import java.util.Map;
import org.apache.flink.table.api.TableEnvironment;

/** One call that makes {@code llm_generate} available to a table environment's SQL and Table API. */
public final class KindlingFunctions {

    private KindlingFunctions() {
    }

    /**
     * Registers {@code llm_generate} as a temporary system function.
     *
     * @param options the model ({@code model}) and default options, in the catalogue's Flink spellings
     */
    public static void register(TableEnvironment env, Map<String, String> options) {
        env.createTemporarySystemFunction(KindlingModule.LLM_GENERATE, new LlmGenerateFunction(options));
    }
}
