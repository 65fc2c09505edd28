package io.kindling.core;

import io.kindling.options.InvalidInputException;

/**
 * An engine setting that cannot work with this model or device (a KV cache smaller than one block, ...); names
 * the setting as {@link EngineConfig} spells it, so that a front end can name its own flag for it.
 */
public class EngineConfigException extends InvalidInputException {

    public EngineConfigException(String setting, String problem) {
        super(setting + ": " + problem, setting, problem);
    }

    /** The setting at fault, e.g. {@code kv_cache_memory}. */
    public String setting() {
        return subject();
    }
}
