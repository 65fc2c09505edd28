package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineService;
import io.kindling.core.Request;
import io.kindling.sampling.SamplingParams;
import io.kindling.runtime.BundledModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin in a real local Spark application, with the model behind a {@code viewfs:} URI (a Hadoop FileSystem
 * other than {@code file:}, mounted through Spark's {@code spark.hadoop.*} settings onto a local directory).
 */
class KindlingPluginTest {

    private static final String MODEL = "viewfs://models/checkpoints/kindling-define-6m";

    @Test
    void copiesTheModelAtExecutorStartServesTasksFromOneEngineAndClosesItAtShutdown(@TempDir Path tmp)
            throws Exception {
        BundledModel.copyTo(tmp.resolve("remote").resolve("kindling-define-6m"));
        Path cacheDir = tmp.resolve("cache");
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("kindling-plugin-test")
                .set("spark.ui.enabled", "false")
                .set("spark.plugins", KindlingPlugin.class.getName())
                .set("spark.hadoop.fs.viewfs.mounttable.models.link./checkpoints", tmp.resolve("remote").toUri().toString())
                .set(KindlingPlugin.MODEL_CONF, MODEL)
                .set(ModelLocation.CACHE_DIR_CONF, cacheDir.toString());
        int loadsBefore = ExecutorEngines.loadCount();
        EngineService served;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<String> copies = cacheCopies(cacheDir);
            assertEquals(1, copies.size(), copies.toString());
            assertTrue(copies.get(0).startsWith("kindling-define-6m-"), copies.get(0));

            List<String> outputs = sc.parallelize(List.of(1, 2, 3, 4), 4).map(i -> {
                EngineService engine = ExecutorEngines.acquire(BundledModel.key(MODEL, "cpu", 8));
                return System.identityHashCode(engine) + " " + Arrays.toString(BundledModel.greedyApple(engine));
            }).collect();
            assertEquals(1, outputs.stream().distinct().count(), outputs.toString());
            assertTrue(outputs.get(0).endsWith(Arrays.toString(BundledModel.APPLE_GREEDY)), outputs.get(0));
            assertEquals(loadsBefore + 1, ExecutorEngines.loadCount());
            assertEquals(copies, cacheCopies(cacheDir));
            served = ExecutorEngines.acquire(BundledModel.key(MODEL, "cpu", 8));
        }
        Request late = new Request("after-shutdown", new int[] {1, 397}, SamplingParams.builder().maxTokens(1).build());
        assertThrows(CancellationException.class, () -> served.submit(late).get());
    }

    private static List<String> cacheCopies(Path cacheDir) throws IOException {
        try (Stream<Path> entries = Files.list(cacheDir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".lock")).toList();
        }
    }
}
