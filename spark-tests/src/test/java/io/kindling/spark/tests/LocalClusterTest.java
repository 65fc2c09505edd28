package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.kindling.spark.runtime.ExecutorEngines;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * {@code local-cluster[2,1,1024]}: two executor JVMs besides this one, each with its own engine, serve the same
 * rows as {@code local[2]} does, with Spark's default 1 GB executors and no Kindling memory setting (the KV cache
 * sized from the executor's heap).
 */
class LocalClusterTest {

    private static final int ROWS = 24;
    private static final int PARTITIONS = 6;

    @Test
    void eachExecutorJvmLoadsItsOwnEngineOnceAndServesTheLocalResults() {
        Map<String, String> local = SparkTests.withSession(SparkTests.session("local[2]"),
                spark -> SparkTests.byKey(generate(spark), "id", "text"));

        List<Row> served = SparkTests.withSession(SparkTests.localCluster(), spark -> {
            Dataset<Row> generated = generate(spark);
            StructType withExecutor = generated.schema()
                    .add("pid", DataTypes.LongType)
                    .add("engine_loads", DataTypes.IntegerType);
            // read in the task that generated the row, after its engine served it
            return generated.map((MapFunction<Row, Row>) row -> RowFactory.create(row.getString(0),
                            row.getString(1), row.getString(2), ProcessHandle.current().pid(),
                            ExecutorEngines.loadCount()), Encoders.row(withExecutor))
                    .collectAsList();
        });

        Map<String, String> clusterTexts = new TreeMap<>();
        Map<Long, TreeSet<Integer>> loadsByPid = new TreeMap<>();
        for (Row row : served) {
            clusterTexts.put(row.getString(0), row.getString(2));
            loadsByPid.computeIfAbsent(row.getLong(3), pid -> new TreeSet<>()).add(row.getInt(4));
        }
        assertEquals(new TreeMap<>(local), clusterTexts);
        assertEquals(ROWS, served.size());
        assertEquals(2, loadsByPid.size(), "executor pids " + loadsByPid.keySet());
        assertFalse(loadsByPid.containsKey(ProcessHandle.current().pid()), "a row was served in the driver");
        loadsByPid.forEach((pid, loads) -> assertEquals(List.of(1), new ArrayList<>(loads),
                "engine loads seen in executor " + pid));
    }

    /** id, prompt, text: the first words, greedy, over several partitions. */
    private static Dataset<Row> generate(SparkSession spark) {
        return SparkTests.words(spark, ROWS).repartition(PARTITIONS)
                .withColumn("text", llm_generate(col("prompt"), Map.of("temperature", "0")));
    }
}
