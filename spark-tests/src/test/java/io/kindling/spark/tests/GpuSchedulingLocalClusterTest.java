package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.spark.runtime.TaskDevices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Encoders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallelism as Spark schedules it: {@code local-cluster[2,1,1024]} whose two workers each own one GPU address
 * (a discovery script hands out "0" to the first worker that runs it and "1" to the second, as the GPUs of a 2-GPU
 * host would be split), executors asking for one GPU and tasks for half of one; and with tensor parallelism, two
 * addresses a worker, executors and tasks asking for both. Every task of an executor must bind
 * {@code spark.kindling.device=cuda} to its executor's address, so each executor JVM runs one engine on its own GPU
 * and the two never share a device. No GPU is touched: the tasks resolve the binding, they start no engine.
 */
class GpuSchedulingLocalClusterTest {

    private static final int TASKS = 8;

    @Test
    void eachExecutorsTasksBindToTheGpuSparkGaveThatExecutor(@TempDir Path dir) throws IOException {
        assertEquals(Set.of("cuda:0", "cuda:1"), boundDevices(dir, 1, "0.5", 1));
    }

    /**
     * Tensor parallelism: each worker owns two GPUs of a 4-GPU host, each task asks for both, and an engine of
     * {@code tensor_parallel_size} 2 binds to the task's two addresses, one a rank.
     */
    @Test
    void tensorParallelTasksBindToBothGpusSparkGaveTheirExecutor(@TempDir Path dir) throws IOException {
        assertEquals(Set.of("cuda:0,1", "cuda:2,3"), boundDevices(dir, 2, "2", 2));
    }

    /**
     * Runs {@link #TASKS} tasks on two executors whose workers own {@code gpusPerWorker} addresses each, and checks
     * that every task of an executor bound to the same device, the addresses Spark gave that task; returns the
     * devices bound.
     */
    private static Set<String> boundDevices(Path dir, int gpusPerWorker, String taskAmount, int ranks)
            throws IOException {
        Path script = claimingDiscoveryScript(dir, gpusPerWorker);
        List<String> placements = SparkTests.withSession(SparkTests.localCluster()
                        .config("spark.worker.resource.gpu.amount", Integer.toString(gpusPerWorker))
                        .config("spark.worker.resource.gpu.discoveryScript", script.toString())
                        .config("spark.executor.resource.gpu.amount", Integer.toString(gpusPerWorker))
                        .config("spark.task.resource.gpu.amount", taskAmount),
                spark -> spark.range(0, TASKS, 1, TASKS).mapPartitions(
                        (MapPartitionsFunction<Long, String>) rows -> placement(ranks), Encoders.STRING())
                        .collectAsList());

        Map<String, Set<String>> devicesByExecutor = new TreeMap<>();
        Map<String, Set<String>> addressesByExecutor = new TreeMap<>();
        for (String placement : placements) {
            String[] fields = placement.split(" ");
            devicesByExecutor.computeIfAbsent(fields[0], e -> new TreeSet<>()).add(fields[1]);
            addressesByExecutor.computeIfAbsent(fields[0], e -> new TreeSet<>()).add(fields[2]);
        }
        assertEquals(TASKS, placements.size());
        assertEquals(2, devicesByExecutor.size(), "executors that ran tasks: " + placements);
        Set<String> devices = new TreeSet<>();
        devicesByExecutor.forEach((executor, bound) -> {
            assertEquals(1, bound.size(), "executor " + executor + " bound its tasks to " + bound);
            String addresses = addressesByExecutor.get(executor).iterator().next();
            assertEquals(Set.of("cuda:" + addresses), bound, "executor " + executor + " was given GPUs " + addresses);
            devices.addAll(bound);
        });
        return devices;
    }

    /** "executor device gpu-addresses" of the task running this partition. */
    private static Iterator<String> placement(int ranks) {
        String[] gpus = TaskContext.get().resourcesJMap().get("gpu").addresses();
        return List.of(SparkEnv.get().executorId() + " " + TaskDevices.bind("cuda", ranks) + " "
                + String.join(",", gpus)).iterator();
    }

    /**
     * A discovery script that claims the lowest free worker slot under {@code dir} (mkdir is atomic) and prints its
     * {@code gpus} addresses: slot i owns addresses i * gpus .. i * gpus + gpus - 1.
     */
    private static Path claimingDiscoveryScript(Path dir, int gpus) throws IOException {
        Path script = dir.resolve("claim-gpu.sh");
        Files.writeString(script, "#!/usr/bin/env bash\n"
                + "for i in 0 1; do\n"
                + "  if mkdir '" + dir + "/claimed-'$i 2>/dev/null; then\n"
                + "    addresses=$(for g in $(seq $((i * " + gpus + ")) $((i * " + gpus + " + " + gpus + " - 1))); do "
                + "printf '\"%s\",' $g; done)\n"
                + "    echo '{\"name\": \"gpu\", \"addresses\": ['${addresses%,}']}'; exit 0\n"
                + "  fi\n"
                + "done\n"
                + "echo 'claim-gpu.sh: both worker slots are taken' >&2; exit 1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
