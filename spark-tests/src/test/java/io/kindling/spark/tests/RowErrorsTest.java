package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineService;
import io.kindling.spark.runtime.ExecutorEngines;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Row errors name the row by the configured key column and stop the job at the first attempt, though tasks may be
 * retried; the node's metrics count an engine's preemptions and KV cache once, however many tasks it served.
 */
class RowErrorsTest extends SparkTestBase {

    @Override
    protected String master() {
        return "local[2,4]"; // two task threads; a failed task is tried 4 times
    }

    @Override
    protected SparkSession.Builder configure(SparkSession.Builder builder) {
        return builder.config("spark.kindling.keyColumn", "id");
    }

    @Test
    void aRowErrorNamesTheKeyAndIsNotRetried() {
        // Ten good rows, then one whose prompt does not fit the model's 512-token context.
        List<Row> rows = IntStream.range(0, 11).mapToObj(i -> RowFactory.create("w" + i,
                i < 10 ? "word" + i + ":" : "apple ".repeat(600) + ":")).toList();
        Dataset<Row> words = spark.createDataFrame(rows, new StructType().add("id", DataTypes.StringType)
                .add("prompt", DataTypes.StringType)).coalesce(1);
        Dataset<Row> defined = words.selectExpr("llm_generate(prompt) AS d");

        SparkTests.Counted<SparkException> run = SparkTests.countRequests(() ->
                assertThrows(SparkException.class, defined::collectAsList));

        assertTrue(run.result().getMessage().contains("llm_generate: row id=w10: prompt has "),
                run.result().getMessage());
        // The first attempt asks for all 11 rows; retries on this executor fail at once, without asking.
        assertEquals(11, run.requests());
    }

    @Test
    void preemptionsAndKvUseCountOncePerEngine() {
        // An engine of its own with 8 blocks of 16 tokens, fed by two tasks at once: sequences must take turns.
        spark.conf().set("spark.kindling.kvCacheMemory", "1m");
        try {
            Dataset<Row> defined = SparkTests.words(spark, 24).repartition(2)
                    .selectExpr("id", "llm_generate(prompt, map('maxTokens', '48', 'ignoreEos', 'true')) AS d");
            assertEquals(24, defined.collectAsList().size());
            // The first engine of this JVM with that cache: it served this query alone.
            EngineService engine = ExecutorEngines.running().stream()
                    .filter(e -> e.stats().numBlocks() == 8).findFirst().orElseThrow();
            long preemptions = engine.stats().numPreemptions();

            SparkPlan eval = SparkTests.executedNode(defined, "LlmEvalExec");
            assertTrue(preemptions > 0, "no preemptions with 8 blocks");
            assertEquals(preemptions, metric(eval, "numPreemptions").value());
            assertEquals(8, metric(eval, "kvCacheBlocks").value());
            long peak = metric(eval, "kvCachePeakBlocks").value();
            // its steps and the sequences they ran: the query's mean batch on that engine
            assertEquals(engine.stats().numSteps(), metric(eval, "engineSteps").value());
            assertEquals(engine.stats().scheduledSeqs(), metric(eval, "engineScheduledSeqs").value());
            assertTrue(peak > 0 && peak <= 8, "peak blocks " + peak);
        } finally {
            spark.conf().unset("spark.kindling.kvCacheMemory");
        }
    }

    private static SQLMetric metric(SparkPlan node, String name) {
        return node.metrics().apply(name);
    }
}
