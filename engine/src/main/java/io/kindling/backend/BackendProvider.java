package io.kindling.backend;

import io.kindling.model.Checkpoint;

/**
 * A backend found at run time through {@link java.util.ServiceLoader}: the CUDA backend lives in the
 * {@code kindling-kernels} jar, so the engine runs without it on machines that have no GPU.
 */
public interface BackendProvider {

    /** True for the devices this provider serves, e.g. {@code cuda} and {@code cuda:1}. */
    boolean serves(String device);

    /** @throws BackendUnavailableException naming the reason when the device cannot be used */
    Backend create(String device, Checkpoint checkpoint, BackendOptions options);
}
