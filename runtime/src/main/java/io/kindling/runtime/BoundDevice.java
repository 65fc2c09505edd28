package io.kindling.runtime;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineConfigException;
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

    /**
     * {@code configured} to the first {@code ranks} of {@code assigned} when it is {@code cuda} and GPUs were
     * assigned: {@code cuda:<addr>}, or with tensor parallelism one address a rank, {@code cuda:<addr>,<addr>}.
     *
     * @param ranks          the engine's {@code tensor_parallel_size}: the GPUs one engine needs
     * @param amountSetting  the setting that gives each task more GPUs, named when too few were assigned
     * @throws EngineConfigException when fewer than {@code ranks} GPUs were assigned
     */
    public static Optional<BoundDevice> toAssigned(String configured, int ranks, List<String> assigned,
                                                   String assigner, String amountSetting) {
        if (!configured.equals("cuda")) {
            return Optional.of(new BoundDevice(configured, configured, "as configured"));
        }
        if (assigned.isEmpty()) {
            return Optional.empty();
        }
        if (assigned.size() < ranks) {
            throw new EngineConfigException("tensor_parallel_size", ranks + " needs " + ranks + " GPUs for one "
                    + "engine, but " + assigner + " assigned " + assigned.size() + " (" + String.join(", ", assigned)
                    + "): set " + amountSetting + "=" + ranks);
        }
        List<String> addresses = assigned.subList(0, ranks);
        String joined = String.join(",", addresses);
        return Optional.of(new BoundDevice(configured, "cuda:" + joined, (ranks == 1 ? "GPU address " : "GPU addresses ")
                + joined + " that " + assigner + " assigned to this task"));
    }

    /** The backend's refusal, saying which GPU the scheduling picked ({@code setting}: the option's full name). */
    public BackendUnavailableException explain(String setting, BackendUnavailableException e) {
        return new BackendUnavailableException(setting + "=" + configured + " bound to " + device + " (" + reason
                + "): " + e.getMessage());
    }
}
