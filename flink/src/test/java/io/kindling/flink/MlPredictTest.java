package io.kindling.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ModelDescriptor;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** ML_PREDICT and llm_generate on a MiniCluster: one TaskManager of three slots, the bundled model on the CPU. */
class MlPredictTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(3).build());

    private static Map<String, String> greedy;

    @BeforeAll
    static void engineAlone() throws Exception {
        greedy = FlinkModels.engineOutputs(0, 0);
    }

    private static TableEnvironment env(boolean streaming, int parallelism) {
        EnvironmentSettings settings = streaming ? EnvironmentSettings.inStreamingMode()
                : EnvironmentSettings.inBatchMode();
        TableEnvironment env = TableEnvironment.create(settings);
        env.getConfig().set("parallelism.default", String.valueOf(parallelism));
        List<Row> rows = new ArrayList<>();
        for (String w : FlinkModels.WORDS) {
            rows.add(Row.of(w, w + ":"));
        }
        rows.add(Row.of("(null)", null));
        env.createTemporaryView("words", env.fromValues(DataTypes.ROW(DataTypes.FIELD("word", DataTypes.STRING()),
                DataTypes.FIELD("prompt", DataTypes.STRING())), rows));
        return env;
    }

    /** word -> response of every row, checking each word comes once. */
    private static Map<String, String> collect(TableEnvironment env, String sql) throws Exception {
        Map<String, String> out = new TreeMap<>();
        TableResult result = env.executeSql(sql);
        try (CloseableIterator<Row> rows = result.collect()) {
            rows.forEachRemaining(r -> assertNull(out.put((String) r.getField(0), (String) r.getField(1)),
                    "twice: " + r));
        }
        return out;
    }

    private static Map<String, String> withNullRow(Map<String, String> outputs) {
        Map<String, String> all = new TreeMap<>(outputs);
        all.put("(null)", null);
        return all;
    }

    private static void createModel(TableEnvironment env, String name, String output, String options) {
        env.executeSql("CREATE TEMPORARY MODEL " + name + " INPUT (prompt STRING) OUTPUT (" + output + ") WITH "
                + "('provider' = 'kindling', " + FlinkModels.engineOptions() + options + ")");
    }

    private static final String PREDICT = "SELECT word, response FROM ML_PREDICT(TABLE words, MODEL definer, "
            + "DESCRIPTOR(prompt))";

    @Test
    void mlPredictInStreamingModeGivesTheEnginesOwnOutputsAtParallelismOneAndThree() throws Exception {
        for (int parallelism : new int[] {1, 3}) {
            TableEnvironment env = env(true, parallelism);
            createModel(env, "definer", "response STRING", ", 'temperature' = '0'");
            assertEquals(withNullRow(greedy), collect(env, PREDICT), "parallelism " + parallelism);
        }
    }

    /**
     * The input comes from one JSON-lines file, read in line order by one subtask: the {@code words} view of
     * {@code fromValues} is a union of one-row sources, whose order reaches ML_PREDICT as the sources happen to run.
     */
    @Test
    void orderedAndUnorderedOutputModesGiveTheSameRowsAndOrderedKeepsTheInputOrder(@TempDir Path dir)
            throws Exception {
        List<String> inputOrder = new ArrayList<>(FlinkModels.WORDS);
        inputOrder.add("(null)");
        List<String> lines = new ArrayList<>();
        for (String w : FlinkModels.WORDS) {  // plain words: nothing to escape
            lines.add("{\"word\": \"" + w + "\", \"prompt\": \"" + w + ":\"}");
        }
        lines.add("{\"word\": \"(null)\", \"prompt\": null}");
        Path file = Files.write(dir.resolve("words.jsonl"), lines);
        for (String mode : List.of("ORDERED", "ALLOW_UNORDERED")) {
            TableEnvironment env = env(true, 1);
            env.executeSql("CREATE TEMPORARY TABLE words_in_order (word STRING, prompt STRING) WITH ('connector' = "
                    + "'filesystem', 'path' = '" + file.toUri() + "', 'format' = 'json')");
            env.getConfig().set("table.exec.async-ml-predict.output-mode", mode);
            createModel(env, "definer", "response STRING", ", 'temperature' = '0'");
            List<String> order = new ArrayList<>();
            Map<String, String> out = new TreeMap<>();
            try (CloseableIterator<Row> rows = env.executeSql(PREDICT.replace("TABLE words", "TABLE words_in_order"))
                    .collect()) {
                rows.forEachRemaining(r -> {
                    order.add((String) r.getField(0));
                    out.put((String) r.getField(0), (String) r.getField(1));
                });
            }
            assertEquals(withNullRow(greedy), out, mode);
            assertEquals(inputOrder.size(), order.size(), mode);
            if (mode.equals("ORDERED")) {
                assertEquals(inputOrder, order);
            }
        }
    }

    @Test
    void seededSamplingIsTheSameAtParallelismOneAndThreeAndInBatchMode() throws Exception {
        Map<String, String> sampled = FlinkModels.engineOutputs(0.7, 42);
        for (boolean streaming : new boolean[] {true, false}) {
            for (int parallelism : new int[] {1, 3}) {
                TableEnvironment env = env(streaming, parallelism);
                createModel(env, "definer", "response STRING", ", 'seed' = '42'");
                assertEquals(withNullRow(sampled), collect(env, PREDICT),
                        (streaming ? "streaming" : "batch") + ", parallelism " + parallelism);
            }
        }
    }

    @Test
    void theTableApisModelDescriptorServesTheSameModel() throws Exception {
        TableEnvironment env = env(false, 2);
        ModelDescriptor.Builder model = ModelDescriptor.forProvider("kindling")
                .inputSchema(Schema.newBuilder().column("prompt", DataTypes.STRING()).build())
                .outputSchema(Schema.newBuilder().column("response", DataTypes.STRING()).build())
                .option("temperature", "0");
        FlinkModels.engineOptionMap().forEach(model::option);
        env.createTemporaryModel("definer", model.build());
        assertEquals(withNullRow(greedy), collect(env, PREDICT));
    }

    @Test
    void llmGenerateGivesTheSameTextAsMlPredict() throws Exception {
        TableEnvironment env = env(true, 3);
        KindlingFunctions.register(env, FlinkModels.engineOptionMap());
        assertEquals(withNullRow(greedy), collect(env, "SELECT word, llm_generate(prompt, MAP['temperature', '0']) "
                + "FROM words"));

        TableEnvironment batch = env(false, 2);
        KindlingFunctions.register(batch, FlinkModels.engineOptionMap());
        assertEquals(withNullRow(greedy), collect(batch, "SELECT word, llm_generate(prompt, MAP['temperature', '0']) "
                + "FROM words"), "batch mode");

        for (boolean streaming : new boolean[] {true, false}) {
            TableEnvironment viaModule = env(streaming, 1);
            viaModule.executeSql("LOAD MODULE kindling WITH (" + FlinkModels.engineOptions() + ", 'temperature' = "
                    + "'0')");
            assertEquals(withNullRow(greedy), collect(viaModule, "SELECT word, llm_generate(prompt) FROM words"),
                    streaming ? "streaming" : "batch");
        }
    }

    @Test
    void aRowTheEngineCannotServeGoesToTheErrorColumnElseFailsTheJobNamingIt() throws Exception {
        TableEnvironment env = env(true, 2);
        env.createTemporaryView("withEmpty", env.sqlQuery("SELECT word, prompt FROM words UNION ALL "
                + "SELECT 'empty', ''"));
        createModel(env, "definer", "response STRING, error STRING, finish_reason STRING", ", 'temperature' = '0'");
        Map<String, List<Object>> rows = new TreeMap<>();
        try (CloseableIterator<Row> it = env.executeSql("SELECT word, response, error, finish_reason FROM "
                + "ML_PREDICT(TABLE withEmpty, MODEL definer, DESCRIPTOR(prompt)) WHERE prompt IS NOT NULL")
                .collect()) {
            it.forEachRemaining(r -> rows.put((String) r.getField(0), List.of(String.valueOf(r.getField(1)),
                    String.valueOf(r.getField(2)), String.valueOf(r.getField(3)))));
        }
        assertEquals(List.of("null", "prompt is empty", "error"), rows.get("empty"));
        assertEquals(List.of(greedy.get("apple"), "null", "length"), rows.get("apple"));
        assertEquals(FlinkModels.WORDS.size() + 1, rows.size());

        createModel(env, "strict", "response STRING", ", 'temperature' = '0'");
        Exception e = assertThrows(Exception.class, () -> collect(env, "SELECT word, response FROM "
                + "ML_PREDICT(TABLE withEmpty, MODEL strict, DESCRIPTOR(prompt))"));
        assertTrue(causes(e).contains("ML_PREDICT: row of subtask ") && causes(e).contains("(prompt \"\"): prompt "
                + "is empty (declare an error STRING column"), causes(e));
    }

    @Test
    void nCompletionsFillAChoicesArray() throws Exception {
        TableEnvironment env = env(true, 1);
        createModel(env, "definer", "response STRING, choices ARRAY<STRING>", ", 'n' = '3', 'seed' = '5'");
        try (CloseableIterator<Row> it = env.executeSql("SELECT word, response, choices FROM ML_PREDICT(TABLE words, "
                + "MODEL definer, DESCRIPTOR(prompt)) WHERE word = 'apple'").collect()) {
            Row r = it.next();
            String[] choices = (String[]) r.getField(2);
            assertEquals(3, choices.length);
            assertEquals(r.getField(1), choices[0]);
        }
    }

    @Test
    void twoJobsInARowEachStartOneEngineForTheirSlotsAndCloseItWhenTheyEnd() throws Exception {
        for (int job = 0; job < 2; job++) {
            int loads = TaskManagerEngines.loadCount();
            TableEnvironment env = env(true, 3);
            createModel(env, "definer", "response STRING", ", 'temperature' = '0'");
            assertEquals(withNullRow(greedy), collect(env, PREDICT), "job " + job);
            assertEquals(loads + 1, TaskManagerEngines.loadCount(), "job " + job + ": one engine for three slots");
            assertEquals(List.of(), FlinkModels.enginesAfterJobs(), "job " + job + " ended: its engine is closed");
        }
    }

    static String causes(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t.getMessage()).append('\n');
        }
        return b.toString();
    }
}
