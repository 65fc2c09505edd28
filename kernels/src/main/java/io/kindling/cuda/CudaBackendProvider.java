package io.kindling.cuda;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendProvider;
import io.kindling.core.EngineConfigException;
import io.kindling.model.Checkpoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves {@code cuda}, {@code cuda:N} and, one GPU a tensor-parallel rank, {@code cuda:N,M,...}
 * ({@link CudaDevices}); registered for {@link java.util.ServiceLoader}.
 */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public boolean serves(String device) {
        return CudaDevices.isCudaDevice(device);
    }

    /**
     * @throws io.kindling.backend.BackendUnavailableException when rank 0's GPU cannot be used (device {@code auto}
     *     then runs on the CPU)
     * @throws EngineConfigException on {@code tensor_parallel_size} once a GPU is known to be here, when the other
     *     ranks' GPUs are missing or cannot reach each other: device {@code auto} must not quietly run a split model
     *     on the CPU of a GPU host
     */
    @Override
    public Backend create(String device, Checkpoint checkpoint, BackendOptions options) {
        CudaDevices devices = CudaDevices.parse(device, options.tensorParallelSize());
        List<CudaContext> contexts = new ArrayList<>();
        try {
            contexts.add(CudaContext.create(devices.ordinal(0)));
            int count = CudaContext.deviceCount();
            for (int r = 1; r < devices.size(); r++) {
                if (devices.ordinal(r) >= count) {
                    throw new EngineConfigException("tensor_parallel_size", devices.size() + " on " + devices
                            + ": rank " + r + " needs CUDA device " + devices.ordinal(r) + ", but this machine has "
                            + count + " CUDA device" + (count == 1 ? "" : "s"));
                }
                contexts.add(CudaContext.create(devices.ordinal(r)));
            }
            CudaContext.joinAsPeers(contexts, (from, to) -> {
                throw new EngineConfigException("tensor_parallel_size", devices.size() + " on " + devices + ": GPU "
                        + from.ordinal() + " cannot access GPU " + to.ordinal() + "'s memory directly "
                        + "(cuDeviceCanAccessPeer), which the all-reduce's peer copies need; pick GPUs joined by "
                        + "NVLink or one PCIe switch (nvidia-smi topo -m)");
            });
        } catch (RuntimeException | Error e) {
            Resources.closeAllAfter(e, contexts);
            throw e;
        }
        return new CudaBackend(devices, contexts, checkpoint.config(), checkpoint.weights(), options);
    }
}
