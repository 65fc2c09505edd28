package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Spark's retries lose and repeat nothing: a task that fails mid-partition on its first attempt, and an executor
 * JVM killed mid-job, give every row exactly once with the outputs of a clean run, greedy and seeded sampling.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultInjectionTest {

    private static final int ROWS = 16;
    private static final int PARTITIONS = 4;
    /** The partition whose first attempt fails, after it has generated and handed on {@link #ROWS_BEFORE} rows. */
    private static final int FAILING = 1;
    private static final int ROWS_BEFORE = 2;

    /** id to "greedy text | sampled text" of a clean run. */
    private Map<String, String> clean;

    @BeforeAll
    void cleanRun() {
        clean = SparkTests.withSession(SparkTests.session("local[2]"), spark -> outputs(generate(spark)));
        assertEquals(ROWS, clean.size());
    }

    @Test
    void aTaskFailingOnItsFirstAttemptIsRetriedWithTheSameOutputs() {
        Faults faults = new Faults();
        Map<String, String> retried = SparkTests.withSession(SparkTests.session("local[2,4]"), spark -> {
            spark.sparkContext().addSparkListener(faults);
            return outputs(generate(spark).mapPartitions(new FirstAttemptFails(false), Encoders.row(schema(spark))));
        });
        assertEquals(clean, retried);
        assertEquals(1, faults.failedTasks.get(), "failed task attempts");
    }

    @Test
    void anExecutorJvmKilledMidJobIsReplacedWithTheSameOutputs() {
        Faults faults = new Faults();
        Map<String, String> recovered = SparkTests.withSession(SparkTests.localCluster(), spark -> {
            spark.sparkContext().addSparkListener(faults);
            return outputs(generate(spark).mapPartitions(new FirstAttemptFails(true), Encoders.row(schema(spark))));
        });
        assertEquals(clean, recovered);
        assertTrue(faults.failedTasks.get() >= 1, "failed task attempts: " + faults.failedTasks.get());
        assertEquals(1, faults.removedExecutors.get(), "executors lost");
    }

    /** id, prompt, greedy, sampled: each row generated at temperature 0 and seeded at 0.8. */
    private static Dataset<Row> generate(SparkSession spark) {
        return SparkTests.words(spark, ROWS).repartition(PARTITIONS)
                .withColumn("greedy", llm_generate(col("prompt"), Map.of("temperature", "0")))
                .withColumn("sampled", llm_generate(col("prompt"), Map.of("temperature", "0.8", "seed", "7")));
    }

    private static org.apache.spark.sql.types.StructType schema(SparkSession spark) {
        return generate(spark).schema();
    }

    /** Every row's outputs by id; fails on a duplicate id. */
    private static Map<String, String> outputs(Dataset<Row> rows) {
        Map<String, String> byId = new TreeMap<>();
        List<Row> collected = rows.collectAsList();
        for (Row row : collected) {
            String previous = byId.put(row.getAs("id"), row.getAs("greedy") + " | " + row.getAs("sampled"));
            assertTrue(previous == null, "duplicate id " + row.getAs("id"));
        }
        assertEquals(ROWS, collected.size(), "rows out");
        return byId;
    }

    /**
     * Passes rows on; in partition {@link #FAILING}'s first attempt, after {@link #ROWS_BEFORE} rows, throws, or
     * kills its own JVM as an operator's {@code kill -9} would.
     */
    private record FirstAttemptFails(boolean killJvm) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            TaskContext task = TaskContext.get();
            // a lost executor's shuffle output makes Spark resubmit the stage, whose tasks count attempts anew
            boolean failing = task.partitionId() == FAILING && task.stageAttemptNumber() == 0
                    && task.attemptNumber() == 0;
            return new Iterator<>() {
                private int passed;

                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    if (failing && passed == ROWS_BEFORE) {
                        fail();
                    }
                    passed++;
                    return rows.next();
                }
            };
        }

        private void fail() {
            if (!killJvm) {
                throw new IllegalStateException("injected failure of partition " + FAILING + "'s first attempt");
            }
            try {
                new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                Thread.sleep(60_000);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("cannot kill the executor JVM", e);
            }
            throw new IllegalStateException("the executor JVM outlived kill -9");
        }
    }

    /** Failed task attempts and lost executors, as the driver saw them. */
    private static final class Faults extends SparkListener {
        final AtomicInteger failedTasks = new AtomicInteger();
        final AtomicInteger removedExecutors = new AtomicInteger();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            if (taskEnd.taskInfo().failed()) {
                failedTasks.incrementAndGet();
            }
        }

        @Override
        public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
            removedExecutors.incrementAndGet();
        }
    }
}
