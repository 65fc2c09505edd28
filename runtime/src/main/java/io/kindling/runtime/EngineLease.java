package io.kindling.runtime;

import io.kindling.core.EngineService;
import java.util.concurrent.atomic.AtomicBoolean;

/** One holder's use of a shared engine ({@link EngineRegistry#lease}); closing it twice releases it once. */
public final class EngineLease implements AutoCloseable {

    private final EngineService engine;
    private final Runnable release;
    private final AtomicBoolean closed = new AtomicBoolean();

    EngineLease(EngineService engine, Runnable release) {
        this.engine = engine;
        this.release = release;
    }

    public EngineService engine() {
        return engine;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release.run();
        }
    }
}
