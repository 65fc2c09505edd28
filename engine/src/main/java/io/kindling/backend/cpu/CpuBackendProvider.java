package io.kindling.backend.cpu;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendProvider;
import io.kindling.model.Checkpoint;

/** Serves {@code cpu}; registered for {@link java.util.ServiceLoader} like the CUDA backend. */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public boolean serves(String device) {
        return device.equals("cpu");
    }

    @Override
    public Backend create(String device, Checkpoint checkpoint, BackendOptions options) {
        if (!serves(device)) {
            throw new IllegalArgumentException("not the CPU: " + device);
        }
        return new CpuBackend(checkpoint.config(), checkpoint.weights(), options.numThreads(),
                options.tensorParallelSize());
    }
}
