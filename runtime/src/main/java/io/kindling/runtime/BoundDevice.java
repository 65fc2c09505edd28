package io.kindling.runtime;

import io.kindling.backend.BackendUnavailableException;
import java.util.List;
import java.util.Optional;

/**
 * The device an engine runs on, as the cluster's GPU scheduling decides it: a configured {@code cuda} becomes the
 * GPU the scheduler assigned ({@code cuda:<addr>}); {@code cuda:N}, {@code cpu} and {@code auto} are kept as
 * configured. Tasks bound to one address get the same engine key, hence one shared engine. What happens when a
 * {@code cuda} task was assigned no GPU is the front end's rule (Spark fails cluster tasks, Flink takes the default
 * device).
 *
 * @param configured the device as configured
 * @param device the device the engine is started on
 * @param reason why {@code device} was chosen, for error messages
 */
public record BoundDevice(String configured, String device, String reason) {

    /** {@code configured} to the first of {@code assigned} when it is {@code cuda} and a GPU was assigned. */
    public static Optional<BoundDevice> toAssigned(String configured, List<String> assigned, String assigner) {
        if (!configured.equals("cuda")) {
            return Optional.of(new BoundDevice(configured, configured, "as configured"));
        }
        if (assigned.isEmpty()) {
            return Optional.empty();
        }
        String address = assigned.get(0);
        return Optional.of(new BoundDevice(configured, "cuda:" + address,
                "GPU address " + address + " that " + assigner + " assigned to this task"));
    }

    /** The backend's refusal, saying which GPU the scheduling picked ({@code setting}: the option's full name). */
    public BackendUnavailableException explain(String setting, BackendUnavailableException e) {
        return new BackendUnavailableException(setting + "=" + configured + " bound to " + device + " (" + reason
                + "): " + e.getMessage());
    }
}
