package io.kindling.runtime;

import io.kindling.core.EngineConfig;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * What identifies a JVM's engine (a Spark executor's, a Flink TaskManager's): the model as configured (a local path
 * or a Hadoop FileSystem URI) and the engine's configuration. That configuration has no model: the host's local copy
 * of it is only known there, and is put in by {@link #config}. Its device is as configured ({@code auto},
 * {@code cpu}, {@code cuda}; {@code cuda} binds to the GPU the cluster assigned, see {@link BoundDevice}). Travels
 * inside the job's plan to the workers.
 */
public record EngineKey(String model, EngineConfig engine) implements Serializable {

    public EngineKey {
        if (engine.model() != null) {
            throw new IllegalArgumentException("an engine key's configuration has no model (the executor's local "
                    + "copy is put in when the engine starts), got " + engine.model());
        }
    }

    /** The same engine on another device: how {@code cuda} becomes the task's {@code cuda:N}. */
    public EngineKey withDevice(String resolved) {
        return new EngineKey(model, engine.withDevice(resolved));
    }

    /** The engine's configuration for the model's local copy. */
    public EngineConfig config(Path localModel) {
        return engine.toBuilder().model(localModel).build();
    }
}
