package io.kindling.core;

/**
 * An engine setting that cannot work with this model or device (a KV cache smaller than one block, ...); names
 * the setting as {@link EngineConfig} spells it, so that a front end can name its own flag for it.
 */
public class EngineConfigException extends IllegalArgumentException {

    private final String setting;
    private final String problem;

    public EngineConfigException(String setting, String problem) {
        super(setting + ": " + problem);
        this.setting = setting;
        this.problem = problem;
    }

    /** The setting at fault, e.g. {@code kv_cache_memory}. */
    public String setting() {
        return setting;
    }

    /** The problem without the setting's name. */
    public String problem() {
        return problem;
    }
}
