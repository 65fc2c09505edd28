package io.kindling.cuda;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendProvider;
import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineConfigException;
import io.kindling.model.Checkpoint;

/** Serves {@code cuda} (GPU 0) and {@code cuda:N}; registered for {@link java.util.ServiceLoader}. */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public boolean serves(String device) {
        return device.equals("cuda") || device.matches("cuda:\\d+");
    }

    @Override
    public Backend create(String device, Checkpoint checkpoint, BackendOptions options) {
        if (!serves(device)) {
            throw new IllegalArgumentException("not a CUDA device: " + device);
        }
        int ordinal;
        try {
            ordinal = device.equals("cuda") ? 0 : Integer.parseInt(device.substring("cuda:".length()));
        } catch (NumberFormatException e) {
            throw new BackendUnavailableException("device " + device + ": no such CUDA ordinal");
        }
        CudaContext context = CudaContext.create(ordinal);
        if (options.tensorParallelSize() > 1) {
            // only once a GPU is known to be here, and not as "unavailable": device auto must not quietly run a
            // split model on the CPU of a GPU host
            context.close();
            throw new EngineConfigException("tensor_parallel_size", options.tensorParallelSize() + " on device "
                    + device + ": tensor parallelism on CUDA devices is not built yet; use 1, or device cpu");
        }
        return new CudaBackend(context, checkpoint.config(), checkpoint.weights(), options);
    }
}
