package io.kindling.backend;

import io.kindling.model.Checkpoint;
import io.kindling.options.Option;
import java.util.ServiceLoader;

/**
 * Chooses the backend for {@code --device}, each found through {@link java.util.ServiceLoader}: {@code cpu}; {@code
 * cuda[:N]} from the CUDA backend's jar, failing with the reason when it cannot be used, and {@code cuda:N,M,...} for
 * a tensor-parallel engine's GPUs, one a rank (how the connectors bind a task's GPU addresses); {@code auto}: CUDA
 * device 0 (with tensor parallelism the first GPUs) when it can be used, else the CPU.
 */
public final class Backends {

    private Backends() {
    }

    public static Backend create(String device, Checkpoint checkpoint, BackendOptions options) {
        if (device.equals("auto")) {
            try {
                return provided("cuda", checkpoint, options);
            } catch (BackendUnavailableException e) {
                System.getLogger(Backends.class.getName()).log(System.Logger.Level.INFO,
                        "device auto: running on the CPU because " + e.getMessage());
                return provided("cpu", checkpoint, options);
            }
        }
        if (Option.DEVICE.isChoice(device)) {
            return provided(device, checkpoint, options);
        }
        throw new IllegalArgumentException("unknown device '" + device + "': expected " + Option.DEVICE.validText());
    }

    private static Backend provided(String device, Checkpoint checkpoint, BackendOptions options) {
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            if (provider.serves(device)) {
                return provider.create(device, checkpoint, options);
            }
        }
        throw new BackendUnavailableException("device " + device + " was requested, but " + (device.equals("cpu")
                ? "the CPU backend is not on the classpath" : "the CUDA backend (kindling-kernels jar) is not on the "
                + "classpath; use --device cpu"));
    }
}
