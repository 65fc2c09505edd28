package io.kindling.backend;

import io.kindling.model.Checkpoint;

/** Chooses the backend for {@code --device}: {@code cpu}, {@code cuda[:N]}, or {@code auto} (CUDA when present). */
public final class Backends {

    private Backends() {
    }

    public static Backend create(String device, int numThreads, Checkpoint checkpoint) {
        if (device.equals("cpu") || device.equals("auto")) {
            return new CpuBackend(checkpoint.config(), checkpoint.weights(), numThreads);
        }
        if (device.equals("cuda") || device.matches("cuda:\\d+")) {
            throw new BackendUnavailableException("device " + device
                    + " was requested, but this build has no CUDA backend yet; use --device cpu");
        }
        throw new IllegalArgumentException("unknown device '" + device + "': expected auto, cpu, cuda or cuda:N");
    }
}
