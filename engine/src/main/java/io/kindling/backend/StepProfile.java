package io.kindling.backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a backend saw of its last forward pass, for {@code kindling bench --profile}.
 *
 * @param hostQueueNanos host time inside {@link Backend#forward}: uploading inputs and queuing the launches
 * @param kernelLaunches kernels launched one by one (a graph replay counts as none of them)
 * @param graphReplays   captured graphs launched (a decode step replays one)
 * @param gpuMillis      device time of each op family in pass order, measured with nothing waiting on the host;
 *                       empty unless {@link Backend#profileNextStep} asked for it
 */
public record StepProfile(long hostQueueNanos, int kernelLaunches, int graphReplays, Map<String, Double> gpuMillis) {

    public StepProfile {
        gpuMillis = Collections.unmodifiableMap(new LinkedHashMap<>(gpuMillis));
    }
}
