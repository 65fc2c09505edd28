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
 * host would be split), executors asking for one GPU and tasks for half of one. Every task of an executor must bind
 * {@code spark.kindling.device=cuda} to its executor's address, so each executor JVM runs one engine on its own GPU
 * and the two never share a device. No GPU is touched: the tasks resolve the binding, they start no engine.
 */
class GpuSchedulingLocalClusterTest {

    private static final int TASKS = 8;

    @Test
    void eachExecutorsTasksBindToTheGpuSparkGaveThatExecutor(@TempDir Path dir) throws IOException {
        Path script = claimingDiscoveryScript(dir);
        List<String> placements = SparkTests.withSession(SparkTests.localCluster()
                        .config("spark.worker.resource.gpu.amount", "1")
                        .config("spark.worker.resource.gpu.discoveryScript", script.toString())
                        .config("spark.executor.resource.gpu.amount", "1")
                        .config("spark.task.resource.gpu.amount", "0.5"),
                spark -> spark.range(0, TASKS, 1, TASKS).mapPartitions(
                        (MapPartitionsFunction<Long, String>) rows -> placement(), Encoders.STRING())
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
            String address = addressesByExecutor.get(executor).iterator().next();
            assertEquals(Set.of("cuda:" + address), bound, "executor " + executor + " was given GPU " + address);
            devices.addAll(bound);
        });
        assertEquals(Set.of("cuda:0", "cuda:1"), devices);
    }

    /** "executor device gpu-address" of the task running this partition. */
    private static Iterator<String> placement() {
        String[] gpus = TaskContext.get().resourcesJMap().get("gpu").addresses();
        return List.of(SparkEnv.get().executorId() + " " + TaskDevices.bind("cuda") + " " + String.join(",", gpus))
                .iterator();
    }

    /** A discovery script that claims the lowest free address under {@code dir} (mkdir is atomic) and prints it. */
    private static Path claimingDiscoveryScript(Path dir) throws IOException {
        Path script = dir.resolve("claim-gpu.sh");
        Files.writeString(script, "#!/usr/bin/env bash\n"
                + "for i in 0 1; do\n"
                + "  if mkdir '" + dir + "/claimed-'$i 2>/dev/null; then\n"
                + "    echo '{\"name\": \"gpu\", \"addresses\": [\"'$i'\"]}'; exit 0\n"
                + "  fi\n"
                + "done\n"
                + "echo 'claim-gpu.sh: both addresses are taken' >&2; exit 1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
