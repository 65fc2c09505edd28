package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Iterator;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * With temperature 0, or with a seed, a row's output is a function of the row: not of the number of partitions,
 * of the task that served it, or of a retry of that task.
 */
class DeterminismTest extends SparkTestBase {

    private static final int ROWS = 28;

    /** The partition whose first attempt fails. */
    private static final int FAILING_PARTITION = 2;

    @Override
    protected String master() {
        return "local[2,4]"; // two task threads; a task may fail three times before the job does
    }

    @AfterEach
    void resetSampling() {
        spark.conf().unset("spark.kindling.temperature");
        spark.conf().unset("spark.kindling.seed");
    }

    @Test
    void greedyOutputsDependOnTheRowOnly() {
        spark.conf().set("spark.kindling.temperature", "0");

        assertSameOutputsAcrossPartitionsAndRetry();
    }

    @Test
    void seededOutputsDependOnTheRowOnly() {
        spark.conf().set("spark.kindling.temperature", "0");
        Map<String, String> greedy = generate(1, false);
        spark.conf().set("spark.kindling.temperature", "0.8");
        spark.conf().set("spark.kindling.seed", "42");

        Map<String, String> sampled = assertSameOutputsAcrossPartitionsAndRetry();

        assertNotEquals(greedy, sampled, "sampling at temperature 0.8 chose the greedy token everywhere");
    }

    private Map<String, String> assertSameOutputsAcrossPartitionsAndRetry() {
        Map<String, String> onePartition = generate(1, false);
        Map<String, String> sevenPartitions = generate(7, false);
        Map<String, String> retried = generate(7, true);

        assertEquals(ROWS, onePartition.size());
        assertEquals(onePartition, sevenPartitions);
        assertEquals(onePartition, retried);
        return onePartition;
    }

    /**
     * id -> generated text of the first {@link #ROWS} words dealt round-robin into {@code partitions}; with
     * {@code failOnce}, the first attempt of partition {@value #FAILING_PARTITION} fails after a few rows.
     */
    private Map<String, String> generate(int partitions, boolean failOnce) {
        Dataset<Row> words = SparkTests.words(spark, ROWS);
        Dataset<Row> input = partitions == 1 ? words : words.repartition(partitions);
        Dataset<Row> generated = input.withColumn("text", llm_generate(col("prompt")));
        SparkTests.assertPlanContains(generated, "LlmEvalExec");
        if (!failOnce) {
            return SparkTests.byKey(generated, "id", "text");
        }
        LongAccumulator retries = spark.sparkContext().longAccumulator("retried partitions");
        Dataset<Row> failing = generated.mapPartitions(new FailFirstAttempt(FAILING_PARTITION, retries),
                Encoders.row(generated.schema()));
        Map<String, String> outputs = SparkTests.byKey(failing, "id", "text");
        assertEquals(1L, retries.value(), "partition " + FAILING_PARTITION + " should have run twice");
        return outputs;
    }

    /**
     * Fails the first attempt of one partition after it has taken a few generated rows, so the retry generates
     * them again; counts the retry.
     */
    private record FailFirstAttempt(int partition, LongAccumulator retries)
            implements MapPartitionsFunction<Row, Row> {

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            TaskContext task = TaskContext.get();
            if (task.partitionId() == partition) {
                if (task.attemptNumber() == 0) {
                    for (int i = 0; i < 2 && rows.hasNext(); i++) {
                        rows.next();
                    }
                    throw new IllegalStateException("injected failure of partition " + partition);
                }
                retries.add(1);
            }
            return rows;
        }
    }
}
