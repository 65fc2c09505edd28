package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code examples/gpu/getGpusResources.sh}, run as Spark runs a discovery script, against a stand-in nvidia-smi. */
class GpuDiscoveryScriptTest {

    private static final Path SCRIPT = Path.of("..", "examples", "gpu", "getGpusResources.sh").toAbsolutePath()
            .normalize();

    /** Exit status, stdout and stderr of one run. */
    private record Run(int status, String out, String err) {
    }

    private static Run discover(Path bin, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString());
        builder.environment().remove("CUDA_VISIBLE_DEVICES");
        builder.environment().put("PATH", bin + ":/usr/bin:/bin");
        builder.environment().putAll(env);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(process.waitFor(), out, err);
    }

    /** A directory whose nvidia-smi prints {@code output} for the script's query. */
    private static Path nvidiaSmi(Path dir, String output) throws IOException {
        Path smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n[ \"$*\" = '--query-gpu=index --format=csv,noheader' ] || exit 9\n"
                + "printf '" + output + "'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    @Test
    void listsNvidiaSmisIndicesAsSparkResourceJson(@TempDir Path tmp) throws Exception {
        Run run = discover(nvidiaSmi(tmp, "0\\n1\\n2\\n3\\n"), Map.of());
        assertEquals(new Run(0, "{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\", \"2\", \"3\"]}\n", ""), run);
    }

    @Test
    void numbersTheDevicesCudaVisibleDevicesLeavesAsCudaDoes(@TempDir Path tmp) throws Exception {
        Run run = discover(nvidiaSmi(tmp, "0\\n1\\n2\\n3\\n"), Map.of("CUDA_VISIBLE_DEVICES", "2,3"));
        assertEquals(new Run(0, "{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}\n", ""), run);
    }

    @Test
    void failsSayingWhyWithoutNvidiaSmiOrGpus(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertEquals(new Run(1, "", "getGpusResources.sh: nvidia-smi is not on the PATH, so no NVIDIA GPU can be "
                + "listed\n"), discover(empty, Map.of()));
        Path none = nvidiaSmi(Files.createDirectory(tmp.resolve("none")), "");
        assertEquals(new Run(1, "", "getGpusResources.sh: no GPU found\n"), discover(none, Map.of()));
    }
}
