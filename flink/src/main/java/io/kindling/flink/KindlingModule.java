package io.kindling.flink;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.functions.FunctionDefinition;
import org.apache.flink.table.functions.UserDefinedFunction;
import org.apache.flink.table.module.Module;

/**
 * {@code LOAD MODULE kindling WITH ('model' = '...', 'max-tokens' = '64')}: makes {@code llm_generate} a system
 * function with those defaults.
 */
public final class KindlingModule implements Module {

    static final String LLM_GENERATE = "llm_generate";

    private final UserDefinedFunction llmGenerate;

    /** @param config the session's configuration: its runtime mode picks the async or the plain function */
    public KindlingModule(ReadableConfig config, Map<String, String> options) {
        this.llmGenerate = KindlingFunctions.function(config, options);
    }

    @Override
    public Set<String> listFunctions() {
        return Set.of(LLM_GENERATE);
    }

    @Override
    public Optional<FunctionDefinition> getFunctionDefinition(String name) {
        return LLM_GENERATE.equalsIgnoreCase(name) ? Optional.of(llmGenerate) : Optional.empty();
    }
}
