package io.kindling.backend;

import io.kindling.model.Checkpoint;
import java.util.ServiceLoader;

/**
 * Chooses the backend for {@code --device}: {@code cpu}; {@code cuda[:N]} from the CUDA backend's jar, failing with
 * the reason when it cannot be used; {@code auto}: CUDA device 0 when it can be used, else the CPU.
 */
public final class Backends {

    private Backends() {
    }

    public static Backend create(String device, Checkpoint checkpoint, BackendOptions options) {
        if (device.equals("cpu")) {
            return new CpuBackend(checkpoint.config(), checkpoint.weights(), options.numThreads());
        }
        if (device.equals("auto")) {
            try {
                return gpu("cuda", checkpoint, options);
            } catch (BackendUnavailableException e) {
                System.getLogger(Backends.class.getName()).log(System.Logger.Level.INFO,
                        "device auto: running on the CPU because " + e.getMessage());
                return new CpuBackend(checkpoint.config(), checkpoint.weights(), options.numThreads());
            }
        }
        if (device.equals("cuda") || device.matches("cuda:\\d+")) {
            return gpu(device, checkpoint, options);
        }
        throw new IllegalArgumentException("unknown device '" + device + "': expected auto, cpu, cuda or cuda:N");
    }

    private static Backend gpu(String device, Checkpoint checkpoint, BackendOptions options) {
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            if (provider.serves(device)) {
                return provider.create(device, checkpoint, options);
            }
        }
        throw new BackendUnavailableException("device " + device + " was requested, but the CUDA backend "
                + "(kindling-kernels jar) is not on the classpath; use --device cpu");
    }
}
