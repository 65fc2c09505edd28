package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineService;
import io.kindling.spark.runtime.ExecutorEngines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.execution.adaptive.QueryStageExec;
import scala.jdk.javaapi.CollectionConverters;

/** What every Spark test needs: the bundled model, the sample words, sessions and plan inspection. */
final class SparkTests {

    /** The repository root (surefire passes it; the module directory's parent otherwise). */
    static final Path ROOT = Path.of(System.getProperty("kindling.root", "..")).toAbsolutePath().normalize();

    /** The bundled model, as an absolute path: executors of local-cluster start in their own directories. */
    static final Path MODEL = ROOT.resolve("examples/models/kindling-define-6m");

    static final Path WORDS = ROOT.resolve("examples/data/words.jsonl");

    /** Short generations keep the suite fast; a word's definition differs from another's well within it. */
    static final int MAX_TOKENS = 12;

    private SparkTests() {
    }

    /**
     * A session on {@code master} with the extension, the bundled model, short generations and a small KV cache,
     * so that the engines of the many option sets tests use share this JVM's heap.
     */
    static SparkSession.Builder session(String master) {
        return withoutMemorySettings(master).config("spark.kindling.kvCacheMemory", "64m");
    }

    /** {@link #session} with no Kindling memory setting: the KV cache sized from the heap, as by default. */
    static SparkSession.Builder withoutMemorySettings(String master) {
        return SparkSession.builder()
                .master(master)
                .appName("kindling-spark-tests")
                .config("spark.sql.extensions", "io.kindling.spark.KindlingExtensions")
                .config("spark.kindling.model", MODEL.toString())
                .config("spark.kindling.maxTokens", Integer.toString(MAX_TOKENS))
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4");
    }

    /**
     * {@code local-cluster[2,1,1024]}: two executor JVMs of Spark's default size, both registered before the first
     * task so that both get tasks.
     */
    static SparkSession.Builder localCluster() {
        return withoutMemorySettings("local-cluster[2,1,1024]")
                .config("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector")
                .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
                .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
    }

    /** Runs {@code job} on a session of its own, stopped afterwards (one SparkContext per JVM at a time). */
    static <T> T withSession(SparkSession.Builder builder, Function<SparkSession, T> job) {
        SparkSession spark = builder.getOrCreate();
        try {
            return job.apply(spark);
        } finally {
            spark.stop();
        }
    }

    /** The first {@code n} sample words ({@code id}, {@code prompt}), in file order, in one partition. */
    static Dataset<Row> words(SparkSession spark, int n) {
        return spark.read().schema("id STRING, prompt STRING").json(WORDS.toString()).limit(n).coalesce(1);
    }

    /** {@code key} to {@code value} column of every row, in row order; the keys must be unique. */
    static Map<String, String> byKey(Dataset<Row> rows, String key, String value) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Row row : rows.select(key, value).collectAsList()) {
            String previous = map.put(row.getString(0), row.getString(1));
            assertTrue(previous == null, "duplicate key " + row.getString(0));
        }
        return map;
    }

    /**
     * The node names of the plan that ran (or will run) {@code df}, top down: adaptive plans show their final
     * plan, query stages their stage plans.
     */
    static List<String> executedNodes(Dataset<?> df) {
        List<String> names = new ArrayList<>();
        collectNodes(df.queryExecution().executedPlan(), names);
        return names;
    }

    private static void collectNodes(SparkPlan plan, List<String> names) {
        if (plan instanceof AdaptiveSparkPlanExec adaptive) {
            collectNodes(adaptive.executedPlan(), names);
            return;
        }
        if (plan instanceof QueryStageExec stage) {
            collectNodes(stage.plan(), names);
            return;
        }
        names.add(plan.getClass().getSimpleName());
        for (SparkPlan child : CollectionConverters.asJava(plan.children())) {
            collectNodes(child, names);
        }
    }

    /** How many requests this JVM's engines got while {@code action} ran, and its result. */
    static <T> Counted<T> countRequests(java.util.function.Supplier<T> action) {
        long before = requestCount();
        T result = action.get();
        return new Counted<>(result, requestCount() - before);
    }

    private static long requestCount() {
        return ExecutorEngines.running().stream().mapToLong(EngineService::numRequests).sum();
    }

    record Counted<T>(T result, long requests) {
    }

    /** The first node of the executed plan named {@code name}, top down. */
    static SparkPlan executedNode(Dataset<?> df, String name) {
        List<SparkPlan> found = new ArrayList<>();
        collect(df.queryExecution().executedPlan(), name, found);
        assertTrue(!found.isEmpty(), () -> "no " + name + " in " + executedNodes(df));
        return found.get(0);
    }

    private static void collect(SparkPlan plan, String name, List<SparkPlan> found) {
        if (plan instanceof AdaptiveSparkPlanExec adaptive) {
            collect(adaptive.executedPlan(), name, found);
        } else if (plan instanceof QueryStageExec stage) {
            collect(stage.plan(), name, found);
        } else {
            if (plan.getClass().getSimpleName().equals(name)) {
                found.add(plan);
            }
            CollectionConverters.asJava(plan.children()).forEach(child -> collect(child, name, found));
        }
    }

    static void assertPlanContains(Dataset<?> df, String node) {
        List<String> nodes = executedNodes(df);
        assertTrue(nodes.contains(node), () -> "executed plan has no " + node + ": " + nodes + "\n"
                + df.queryExecution().executedPlan().treeString());
    }
}
