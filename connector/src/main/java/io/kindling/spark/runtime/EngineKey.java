package io.kindling.spark.runtime;

import io.kindling.core.EngineConfig;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * What identifies an executor's engine: the model as configured (a local path or a Hadoop FileSystem URI) and the
 * engine's configuration. That configuration has no model: the executor's local copy of it is only known there, and
 * is put in by {@link #config}. Its device is as configured ({@code auto}, {@code cpu}, {@code cuda}; {@code cuda}
 * binds to the task's GPU). Travels inside the physical plan to the executors.
 */
public record EngineKey(String model, EngineConfig engine) implements Serializable {

    public EngineKey {
        if (engine.model() != null) {
            throw new IllegalArgumentException("an engine key's configuration has no model (the executor's local "
                    + "copy is put in when the engine starts), got " + engine.model());
        }
    }

    /** The same engine on another device: how {@code cuda} becomes the task's {@code cuda:N}. */
    EngineKey withDevice(String resolved) {
        return new EngineKey(model, engine.withDevice(resolved));
    }

    /** The engine's configuration for the model's local copy. */
    EngineConfig config(Path localModel) {
        return engine.toBuilder().model(localModel).build();
    }
}
