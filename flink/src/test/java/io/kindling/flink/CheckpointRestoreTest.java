package io.kindling.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly once across a failure: a checkpointed job whose sink side fails once, after a checkpoint, while rows are
 * in the engine; Flink restores the source position and the async operator's in-flight rows, and since each row's
 * sampler is seeded from its prompt the re-issued rows draw the same tokens. The collected result (exactly once
 * with checkpointing) holds every row once, equal to the engine's own outputs.
 */
class CheckpointRestoreTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger SEEN_AFTER_CHECKPOINT = new AtomicInteger();

    /** Slows the source down, so that checkpoints fall between its rows. */
    static final class Paced implements MapFunction<Long, Row> {
        @Override
        public Row map(Long i) throws InterruptedException {
            Thread.sleep(40);
            String word = FlinkModels.WORDS.get((int) (long) i);
            return Row.of(word, word + ":");
        }
    }

    /** Fails the task once, on the second row it sees after a checkpoint completed. */
    static final class FailOnce implements MapFunction<Row, Row>, CheckpointListener {
        @Override
        public Row map(Row row) {
            if (CHECKPOINTED.get() && SEEN_AFTER_CHECKPOINT.incrementAndGet() == 2 && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure after a checkpoint");
            }
            return row;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINTED.set(true);
        }
    }

    @Test
    void aRestoredJobGivesEachRowOnceWithTheSameTextAsAFaultFreeRun() throws Exception {
        Map<String, String> sampled = FlinkModels.engineOutputs(0.7, 3);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(100);
        env.setParallelism(1);
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        DataStream<Row> words = env.fromSequence(0, FlinkModels.WORDS.size() - 1)
                .map(new Paced()).returns(Types.ROW_NAMED(new String[] {"word", "prompt"}, Types.STRING, Types.STRING));
        tables.createTemporaryView("words", words);
        tables.executeSql("CREATE TEMPORARY MODEL definer INPUT (prompt STRING) OUTPUT (response STRING) WITH "
                + "('provider' = 'kindling', " + FlinkModels.engineOptions() + ", 'seed' = '3')");
        DataStream<Row> predicted = tables.toDataStream(tables.sqlQuery("SELECT word, response FROM "
                + "ML_PREDICT(TABLE words, MODEL definer, DESCRIPTOR(prompt))"));
        Map<String, String> out = new TreeMap<>();
        try (var rows = predicted.map(new FailOnce()).returns(predicted.getType()).executeAndCollect()) {
            rows.forEachRemaining(r -> assertNull(out.put((String) r.getField(0), (String) r.getField(1)),
                    "twice: " + r));
        }
        assertTrue(FAILED.get(), "the failure was injected");
        assertEquals(new TreeMap<>(sampled), out);
        assertEquals(List.of(), FlinkModels.enginesAfterJobs());
    }
}
