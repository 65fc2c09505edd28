package io.kindling.runtime;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The device an engine runs on, as the cluster's GPU scheduling decides it: a configured {@code cuda} becomes a
 * GPU the scheduler assigned ({@code cuda:<addr>}; with {@code tensor_parallel_size} N a group of N of them,
 * {@code cuda:<addr>,<addr>}); {@code cuda:N}, {@code cpu} and {@code auto} are kept as configured. Spark assigns
 * a task its GPUs, so it takes the first group; Flink gives them to the TaskManager, which spreads its slots over
 * the groups ({@link #choices}). Tasks bound to one device get the same engine key, hence one shared engine. What
 * happens when a {@code cuda} task was assigned no GPU is the front end's rule (Spark fails cluster tasks, Flink
 * takes the default device).
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
     * @param assigner       who assigned them, to whom, as in "GPU address 1 that <i>Spark assigned to this task</i>"
     * @param amountSetting  the setting that gives each task more GPUs, named when too few were assigned
     * @throws EngineConfigException when fewer than {@code ranks} GPUs were assigned
     */
    public static Optional<BoundDevice> toAssigned(String configured, int ranks, List<String> assigned,
                                                   String assigner, String amountSetting) {
        return choices(configured, ranks, assigned, assigner, amountSetting).stream().findFirst();
    }

    /**
     * Every device {@code configured} may bind to: for {@code cuda}, {@code assigned} cut into groups of
     * {@code ranks} consecutive addresses, one engine's each (those left over are too few for one); otherwise
     * {@code configured} as it is. Empty when {@code cuda} was assigned no GPU.
     *
     * @throws EngineConfigException when GPUs were assigned, but fewer than {@code ranks}
     */
    public static List<BoundDevice> choices(String configured, int ranks, List<String> assigned, String assigner,
                                            String amountSetting) {
        if (!configured.equals("cuda")) {
            return List.of(new BoundDevice(configured, configured, "as configured"));
        }
        if (!assigned.isEmpty() && assigned.size() < ranks) {
            throw new EngineConfigException("tensor_parallel_size", ranks + " needs " + ranks + " GPUs for one "
                    + "engine, but it has " + assigned.size() + " (" + String.join(", ", assigned) + "), that "
                    + assigner + ": set " + amountSetting + "=" + ranks);
        }
        List<BoundDevice> choices = new ArrayList<>();
        for (int first = 0; first + ranks <= assigned.size(); first += ranks) {
            String joined = String.join(",", assigned.subList(first, first + ranks));
            choices.add(new BoundDevice(configured, "cuda:" + joined, (ranks == 1 ? "GPU address " : "GPU addresses ")
                    + joined + " that " + assigner));
        }
        return List.copyOf(choices);
    }

    /** The backend's refusal on one of {@code choices}, which the caller did not learn (see {@link #explain}). */
    public static BackendUnavailableException explain(String setting, List<BoundDevice> choices,
                                                      BackendUnavailableException e) {
        if (choices.size() == 1) {
            return choices.get(0).explain(setting, e);
        }
        return new BackendUnavailableException(setting + "=" + choices.get(0).configured() + " bound to the least "
                + "used of " + choices.stream().map(BoundDevice::device).toList() + " (" + choices.get(0).reason()
                + " and the rest): " + e.getMessage());
    }

    /** The backend's refusal, saying which GPU the scheduling picked ({@code setting}: the option's full name). */
    public BackendUnavailableException explain(String setting, BackendUnavailableException e) {
        return new BackendUnavailableException(setting + "=" + configured + " bound to " + device + " (" + reason
                + "): " + e.getMessage());
    }
}
