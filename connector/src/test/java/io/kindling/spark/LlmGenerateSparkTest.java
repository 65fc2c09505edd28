package io.kindling.spark;

import static io.kindling.spark.functions.llm_generate;
import static io.kindling.spark.functions.llm_generate_struct;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import io.kindling.spark.runtime.ExecutorEngines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.SparkException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.execution.adaptive.QueryStageExec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code llm_generate} on {@code local[2]} with the bundled model, against the engine called directly on the same
 * prompts with the same per-row seeds.
 */
class LlmGenerateSparkTest {

    static final Path MODEL = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath().normalize();
    static final List<String> PROMPTS = Arrays.asList("apple:", "book:", "cat:", null, "dog:", "river:", "stone:",
            "music:");
    static final int MAX_TOKENS = 8;

    static SparkSession spark;
    static LlmEngine reference;
    static final Map<String, RequestOutput> cache = new HashMap<>();

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("LlmGenerateSparkTest")
                .config("spark.sql.extensions", KindlingExtensions.class.getName())
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.kindling.model", MODEL.toString())
                .config("spark.kindling.device", "cpu")
                .config("spark.kindling.maxTokens", String.valueOf(MAX_TOKENS))
                .config("spark.kindling.maxNumSeqs", "8")
                .config("spark.kindling.kvCacheMemory", "16m")
                .config("spark.kindling.threads", "1")
                .getOrCreate();
        List<Row> rows = IntStream.range(0, PROMPTS.size()).mapToObj(i -> RowFactory.create(i, PROMPTS.get(i)))
                .toList();
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("prompt", DataTypes.StringType);
        spark.createDataFrame(rows, schema).repartition(2).sortWithinPartitions("id")
                .createOrReplaceTempView("prompts_unordered");
        // Two partitions with ids in order: partition 0 holds 0-3, partition 1 holds 4-7.
        spark.createDataFrame(rows, schema).coalesce(1).createOrReplaceTempView("prompts_one");
        spark.sql("SELECT * FROM prompts_one").repartitionByRange(2, col("id")).sortWithinPartitions("id")
                .createOrReplaceTempView("prompts");
        reference = LlmEngine.open(EngineConfig.defaults(MODEL).withDevice("cpu").withNumThreads(1)
                .withMaxNumSeqs(8).withKvCacheMemoryBytes(16L << 20));
    }

    @AfterAll
    static void stop() {
        spark.stop();
        reference.close();
        ExecutorEngines.closeAll();
    }

    /** The engine's output for one prompt, sampled as llm_generate samples it: the model's defaults, then options. */
    static RequestOutput expectedOutput(String prompt, UnaryOperator<SamplingParams.Builder> options) {
        SamplingParams params = options.apply(reference.defaultSamplingParams().toBuilder().maxTokens(MAX_TOKENS)
                .seed(ExecutorEngines.rowSeed(0, prompt, null))).build();
        return cache.computeIfAbsent(prompt + "\u0000" + params, k -> reference.generate(List.of(
                new Request("ref-" + cache.size(), reference.tokenizer().encode(prompt), params))).get(0));
    }

    static String expected(String prompt, UnaryOperator<SamplingParams.Builder> options) {
        return prompt == null ? null : expectedOutput(prompt, options).completion().text();
    }

    static String expected(String prompt) {
        return expected(prompt, b -> b);
    }

    static List<String> column(Dataset<Row> df, String name) {
        return df.collectAsList().stream().map(r -> r.<String>getAs(name)).collect(Collectors.toList());
    }

    static List<LlmEvalExec> evalNodes(SparkPlan plan) {
        List<LlmEvalExec> found = new ArrayList<>();
        collectEvals(plan, found);
        return found;
    }

    private static void collectEvals(SparkPlan plan, List<LlmEvalExec> found) {
        if (plan instanceof AdaptiveSparkPlanExec adaptive) {
            collectEvals(adaptive.executedPlan(), found);
            return;
        }
        if (plan instanceof QueryStageExec stage) {
            collectEvals(stage.plan(), found);
            return;
        }
        if (plan instanceof LlmEvalExec eval) {
            found.add(eval);
        }
        for (SparkPlan child : ScalaSeqs.list(plan.children())) {
            collectEvals(child, found);
        }
    }

    @Test
    void dataFrameOutputsEqualTheEngineInRowOrder() {
        Dataset<Row> out = spark.table("prompts").withColumn("out", llm_generate(col("prompt")));
        List<Row> rows = out.collectAsList();
        assertEquals(PROMPTS.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i, rows.get(i).<Integer>getAs("id"));
            assertEquals(PROMPTS.get(i), rows.get(i).getAs("prompt"));
            assertEquals(expected(PROMPTS.get(i)), rows.get(i).getAs("out"), "row " + i);
        }
        assertNull(rows.get(3).getAs("out"));
        List<LlmEvalExec> evals = evalNodes(out.queryExecution().executedPlan());
        assertEquals(1, evals.size());
        LlmEvalExec eval = evals.get(0);
        assertEquals(PROMPTS.size(), eval.metrics().apply(LlmMetrics.OUTPUT_ROWS).value());
        assertEquals(PROMPTS.size() - 1, eval.metrics().apply(LlmMetrics.REQUESTS).value());
        long promptTokens = PROMPTS.stream().filter(p -> p != null)
                .mapToLong(p -> reference.tokenizer().encode(p).length).sum();
        assertEquals(promptTokens, eval.metrics().apply(LlmMetrics.PROMPT_TOKENS).value());
        assertTrue(eval.metrics().apply(LlmMetrics.GENERATED_TOKENS).value() > 0);
    }

    @Test
    void sqlAndDataFrameFormsAgreeAndOptionsApply() {
        List<String> sql = column(spark.sql("SELECT id, llm_generate(prompt, map('max_tokens', '4', "
                + "'temperature', '0')) AS out FROM prompts ORDER BY id"), "out");
        List<String> dataFrame = column(spark.table("prompts").orderBy("id").select(llm_generate(col("prompt"),
                Map.of("maxTokens", "4", "temperature", "0")).as("out")), "out");
        assertEquals(sql, dataFrame);
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertEquals(expected(PROMPTS.get(i), b -> b.maxTokens(4).temperature(0)), sql.get(i), "row " + i);
        }
    }

    @Test
    void theTokenizerLibrarysGpuProbeIsQuietOnceAnEngineStarted() {
        assertEquals(expected("book:"), spark.sql("SELECT llm_generate('book:')").first().getString(0));
        assertEquals(org.apache.logging.log4j.Level.ERROR,
                org.apache.logging.log4j.LogManager.getLogger("ai.djl.util.cuda.CudaUtils").getLevel());
    }

    @Test
    void literalRowsAndLiteralPrompts() {
        // A Project over local rows is folded by the optimizer unless the call is marked unevaluable.
        List<String> values = column(spark.sql("SELECT llm_generate(p) AS out FROM VALUES ('apple:'), (NULL), "
                + "('cat:') AS t(p)"), "out");
        assertEquals(Arrays.asList(expected("apple:"), null, expected("cat:")), values);
        assertEquals(expected("book:"), spark.sql("SELECT llm_generate('book:')").first().getString(0));
    }

    @Test
    void partitioningDoesNotChangeOutputs() {
        List<String> two = column(spark.sql("SELECT llm_generate(prompt) AS out FROM prompts_unordered "
                + "ORDER BY id"), "out");
        List<String> one = column(spark.sql("SELECT llm_generate(prompt) AS out FROM prompts_one ORDER BY id"), "out");
        assertEquals(one, two);
    }

    @Test
    void filterOnAGeneratedValue() {
        Dataset<Row> out = spark.sql("SELECT id FROM prompts "
                + "WHERE llm_generate(prompt, map('temperature', '0')) LIKE '%a%' ORDER BY id");
        List<Integer> expectedIds = IntStream.range(0, PROMPTS.size()).filter(i -> {
            String text = expected(PROMPTS.get(i), b -> b.temperature(0));
            return text != null && text.contains("a");
        }).boxed().toList();
        assertTrue(!expectedIds.isEmpty() && expectedIds.size() < PROMPTS.size() - 1, expectedIds.toString());
        assertEquals(expectedIds, out.collectAsList().stream().map(r -> r.getInt(0)).toList());
        assertEquals(1, evalNodes(out.queryExecution().executedPlan()).size());

        // The optimizer pushes the filter below the projection that generates the column, copying the call:
        // the projection must read the filter's result instead of asking the engine again. (Over one partition:
        // a range partitioning above the calls samples its input in a job of its own, running them once more.)
        Dataset<Row> projected = spark.sql("SELECT id, o FROM (SELECT id, llm_generate(prompt, "
                + "map('temperature', '0')) AS o FROM prompts_one) WHERE o LIKE '%a%'");
        List<Row> rows = projected.collectAsList();
        assertEquals(expectedIds, rows.stream().map(r -> r.getInt(0)).toList());
        for (Row r : rows) {
            assertEquals(expected(PROMPTS.get(r.getInt(0)), b -> b.temperature(0)), r.getString(1));
        }
        List<LlmEvalExec> evals = evalNodes(projected.queryExecution().executedPlan());
        assertEquals(1, evals.size());
        assertEquals(PROMPTS.size() - 1, evals.get(0).metrics().apply(LlmMetrics.REQUESTS).value());
    }

    @Test
    void nestedCallsRunInnerFirstInStackedNodes() {
        Dataset<Row> out = spark.sql("SELECT id, llm_generate(concat('Define: ', "
                + "llm_generate(prompt, map('maxTokens', '4')))) AS out FROM prompts ORDER BY id");
        List<String> got = column(out, "out");
        for (int i = 0; i < PROMPTS.size(); i++) {
            String inner = expected(PROMPTS.get(i), b -> b.maxTokens(4));
            assertEquals(inner == null ? null : expected("Define: " + inner), got.get(i), "row " + i);
        }
        assertEquals(2, evalNodes(out.queryExecution().executedPlan()).size());
    }

    @Test
    void twoCallsInOneRowShareOneNode() {
        Dataset<Row> out = spark.table("prompts").orderBy("id").select(col("id"),
                llm_generate(col("prompt")).as("sampled"),
                llm_generate(col("prompt"), Map.of("temperature", "0")).as("greedy"),
                llm_generate(col("prompt")).as("sampled_again"));
        List<Row> rows = out.collectAsList();
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertEquals(expected(PROMPTS.get(i)), rows.get(i).getAs("sampled"));
            assertEquals(expected(PROMPTS.get(i), b -> b.temperature(0)), rows.get(i).getAs("greedy"));
            assertEquals(rows.get(i).<String>getAs("sampled"), rows.get(i).getAs("sampled_again"));
        }
        List<LlmEvalExec> evals = evalNodes(out.queryExecution().executedPlan());
        assertEquals(1, evals.size());
        assertEquals(2, evals.get(0).calls().size(), "identical calls run once");
    }

    @Test
    void structVariantCarriesTheDetails() {
        List<Row> rows = spark.sql("SELECT llm_generate_struct(prompt, map('temperature', '0')) AS r "
                + "FROM prompts ORDER BY id").collectAsList();
        for (int i = 0; i < PROMPTS.size(); i++) {
            Row r = rows.get(i).getStruct(0);
            String prompt = PROMPTS.get(i);
            if (prompt == null) {
                assertNull(r);
                continue;
            }
            assertEquals(expected(prompt, b -> b.temperature(0)), r.getAs("text"));
            assertEquals(reference.tokenizer().encode(prompt).length, r.<Integer>getAs("prompt_tokens"));
            int completion = r.getAs("completion_tokens");
            assertTrue(completion >= 1 && completion <= MAX_TOKENS, "completion_tokens " + completion);
            assertEquals(completion == MAX_TOKENS ? "length" : "stop", r.getAs("finish_reason"));
            assertNull(r.getAs("error"));
        }
    }

    /** A struct's choices as (text, finish_reason, cumulative_logprob, completion_tokens) lists. */
    static List<List<Object>> choices(Row struct) {
        return struct.<Row>getList(struct.fieldIndex("choices")).stream()
                .map(c -> Arrays.asList(c.get(0), c.get(1), c.get(2), c.get(3))).toList();
    }

    /** The engine's completions as {@link #choices} lays them out. */
    static List<List<Object>> choices(RequestOutput out) {
        return out.completions().stream().map(c -> Arrays.<Object>asList(c.text(), c.finishReason().wireName(),
                c.cumulativeLogprob().isPresent() ? c.cumulativeLogprob().getAsDouble() : null,
                c.tokenIds().length)).toList();
    }

    @Test
    void beamSearchReturnsTheEnginesBestBeamAndEveryBeamInTheStruct() {
        // The model samples by default (temperature 0.7); beam search ignores that, so the defaults need no override.
        List<Row> rows = spark.sql("SELECT llm_generate(prompt, map('beam_width', '3')) AS best, "
                + "llm_generate_struct(prompt, map('beamWidth', '3')) AS r FROM prompts ORDER BY id").collectAsList();
        Set<String> distinctBest = new HashSet<>();
        for (int i = 0; i < PROMPTS.size(); i++) {
            String prompt = PROMPTS.get(i);
            if (prompt == null) {
                assertNull(rows.get(i).get(0));
                continue;
            }
            RequestOutput engine = expectedOutput(prompt, b -> b.beamWidth(3).n(3));
            assertEquals(engine.completion().text(), rows.get(i).getString(0), "row " + i);
            distinctBest.add(rows.get(i).getString(0));

            Row r = rows.get(i).getStruct(1);
            List<List<Object>> beams = choices(r);
            assertEquals(choices(engine), beams, "row " + i);
            assertEquals(3, beams.size());
            assertEquals(r.getAs("text"), beams.get(0).get(0));
            assertEquals(r.<Integer>getAs("completion_tokens"), beams.get(0).get(3));
            assertEquals(r.getAs("finish_reason"), beams.get(0).get(1));
            // Best first: the beam score is cumulative_logprob / completion_tokens ^ length_penalty (1 here).
            for (int k = 1; k < beams.size(); k++) {
                double before = (double) beams.get(k - 1).get(2) / (int) beams.get(k - 1).get(3);
                double after = (double) beams.get(k).get(2) / (int) beams.get(k).get(3);
                assertTrue(before >= after - 1e-6, "row " + i + ": beam " + k + " scores " + after + " > " + before);
            }
        }
        assertTrue(distinctBest.size() > 1, "beams differ by prompt: " + distinctBest);
    }

    @Test
    void parallelSamplesAreSeededPerRowWhateverThePartitioning() {
        String query = "SELECT llm_generate(prompt, map('n', '2', 'seed', '7')) AS first, "
                + "llm_generate_struct(prompt, map('n', '2', 'seed', '7')) AS r FROM %s ORDER BY id";
        List<Row> ranged = spark.sql(query.formatted("prompts")).collectAsList();
        List<Row> unordered = spark.sql(query.formatted("prompts_unordered")).collectAsList();
        List<Row> one = spark.sql(query.formatted("prompts_one")).collectAsList();
        assertEquals(one, ranged);
        assertEquals(one, unordered);
        boolean samplesDiffer = false;
        for (int i = 0; i < PROMPTS.size(); i++) {
            String prompt = PROMPTS.get(i);
            if (prompt == null) {
                assertNull(one.get(i).get(1));
                continue;
            }
            RequestOutput engine = expectedOutput(prompt, b -> b.n(2).seed(ExecutorEngines.rowSeed(7, prompt, null)));
            List<List<Object>> samples = choices(one.get(i).getStruct(1));
            assertEquals(choices(engine), samples, "row " + i);
            assertEquals(2, samples.size());
            assertNull(samples.get(0).get(2), "samples carry no cumulative logprob");
            assertEquals(samples.get(0).get(0), one.get(i).getString(0), "llm_generate returns sample 0");
            samplesDiffer |= !samples.get(0).get(0).equals(samples.get(1).get(0));
        }
        assertTrue(samplesDiffer, "the two samples of a row have their own generators");
    }

    @Test
    void choicesIsNullForASingleCompletion() {
        Row r = spark.sql("SELECT llm_generate_struct('apple:') AS r").first().getStruct(0);
        assertEquals(expected("apple:"), r.getAs("text"));
        assertNull(r.get(r.fieldIndex("choices")));
    }

    @Test
    void badSearchCombinationsFailAtAnalysisNamingTheOption() {
        AnalysisException temperature = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('beam_width', '3', 'temperature', '0.5')) FROM prompts"));
        assertTrue(temperature.getMessage().contains("llm_generate: option 'temperature' does not apply to beam "
                + "search"), temperature.getMessage());
        AnalysisException tooMany = assertThrows(AnalysisException.class, () -> spark.table("prompts")
                .select(llm_generate_struct(col("prompt"), Map.of("beamWidth", "2", "n", "3"))));
        // named as called: the struct variant
        assertTrue(tooMany.getMessage().contains("llm_generate_struct: option 'n' beam search returns at most "
                + "beam_width (2) beams, got 3"), tooMany.getMessage());
    }

    @Test
    void callsInsideAggregatesAndOverGroupingKeys() {
        long nonEmpty = PROMPTS.stream().filter(p -> p != null && !expected(p).isEmpty()).count();
        Row counted = spark.sql("SELECT count(llm_generate(prompt)) AS n, "
                + "sum(length(llm_generate(prompt))) AS chars FROM prompts").first();
        assertEquals(PROMPTS.size() - 1, counted.getLong(0));
        assertEquals(PROMPTS.stream().filter(p -> p != null).mapToLong(p -> expected(p).length()).sum(),
                counted.getLong(1));
        assertTrue(nonEmpty > 0);

        List<Row> grouped = spark.sql("SELECT prompt, llm_generate(prompt) AS out, count(*) AS n FROM prompts "
                + "WHERE prompt IS NOT NULL GROUP BY prompt ORDER BY prompt").collectAsList();
        List<String> sorted = PROMPTS.stream().filter(p -> p != null).sorted().toList();
        assertEquals(sorted, grouped.stream().map(r -> r.getString(0)).toList());
        for (Row r : grouped) {
            assertEquals(expected(r.getString(0)), r.getString(1));
            assertEquals(1L, r.getLong(2));
        }
    }

    @Test
    void badOptionsFailAtAnalysisNamingThem() {
        AnalysisException unknown = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('max_tokenz', '4')) FROM prompts"));
        assertTrue(unknown.getMessage().contains("llm_generate: unknown option 'max_tokenz'"), unknown.getMessage());
        AnalysisException negative = assertThrows(AnalysisException.class, () -> spark.table("prompts")
                .select(llm_generate(col("prompt"), Map.of("temperature", "-1"))));
        assertTrue(negative.getMessage().contains("llm_generate: option 'temperature' must be >= 0, got -1.0"),
                negative.getMessage());
        AnalysisException notNumber = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('maxTokens', 'many')) FROM prompts"));
        assertTrue(notNumber.getMessage().contains("llm_generate: option 'maxTokens' must be an integer, got 'many'"),
                notNumber.getMessage());
        // a value may be a column (each row's own option), a name may not
        AnalysisException notLiteral = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map(prompt, '4')) FROM prompts"));
        assertTrue(notLiteral.getMessage().contains("llm_generate: option names must be literals, got prompt"),
                notLiteral.getMessage());
    }

    @Test
    void unsupportedPlacementsFailAtAnalysis() {
        AnalysisException lambda = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT transform(array(prompt), x -> llm_generate(x)) FROM prompts"));
        assertTrue(lambda.getMessage().contains("cannot run inside a lambda function"), lambda.getMessage());
        AnalysisException join = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT a.id FROM prompts a JOIN prompts b "
                        + "ON llm_generate(concat(a.prompt, b.prompt)) = 'x'"));
        assertTrue(join.getMessage().contains("reads columns of several inputs"), join.getMessage());
    }

    @Test
    void limitStopsSendingRows() {
        List<Row> rows = IntStream.range(0, 40).mapToObj(i -> RowFactory.create(i, "word" + i + ":")).toList();
        spark.createDataFrame(rows, new StructType().add("id", DataTypes.IntegerType)
                .add("prompt", DataTypes.StringType)).coalesce(1).createOrReplaceTempView("many");
        Dataset<Row> out = spark.sql("SELECT llm_generate(prompt, map('maxInFlight', '2')) AS out FROM many LIMIT 3");
        assertEquals(3, out.collectAsList().size());
        // The call runs above the limit, on the 3 rows it keeps.
        assertEquals(3, evalNodes(out.queryExecution().executedPlan()).get(0).metrics()
                .apply(LlmMetrics.REQUESTS).value());
    }

    @Test
    void aRowTheEngineCannotServeFailsTheTaskOrBecomesNull() {
        String tooLong = "apple ".repeat(600) + ":";
        List<Row> rows = List.of(RowFactory.create(0, "apple:"), RowFactory.create(1, tooLong));
        spark.createDataFrame(rows, new StructType().add("id", DataTypes.IntegerType)
                .add("prompt", DataTypes.StringType)).coalesce(1).createOrReplaceTempView("long_prompts");
        SparkException failed = assertThrows(SparkException.class, () -> spark.sql(
                "SELECT llm_generate(prompt) FROM long_prompts").collectAsList());
        assertTrue(failed.getMessage().contains("llm_generate: row 1 of partition 0 (prompt \"apple apple apple "
                + "apple apple apple appl...\"): prompt has "), failed.getMessage());
        SparkException keyed = assertThrows(SparkException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('keyColumn', 'id')) FROM long_prompts").collectAsList());
        assertTrue(keyed.getMessage().contains("llm_generate: row id=1: prompt has "), keyed.getMessage());

        // The struct records the error by default; the plain function gives null when told to.
        Dataset<Row> lenientQuery = spark.sql("SELECT llm_generate(prompt, map('onError', 'null')) AS out, "
                + "llm_generate_struct(prompt) AS r FROM long_prompts");
        List<Row> lenient = lenientQuery.collectAsList();
        assertEquals(expected("apple:"), lenient.get(0).getString(0));
        assertNull(lenient.get(1).get(0));
        Row error = lenient.get(1).getStruct(1);
        assertNull(error.getAs("text"));
        assertEquals("error", error.getAs("finish_reason"));
        assertTrue(error.<String>getAs("error").startsWith("prompt has "), error.<String>getAs("error"));
        LlmEvalExec eval = evalNodes(lenientQuery.queryExecution().executedPlan()).get(0);
        assertEquals(2, eval.metrics().apply(LlmMetrics.ERROR_ROWS).value(), "one error row per call");
        assertEquals(0, eval.metrics().apply(LlmMetrics.NULL_PROMPTS).value());
    }

    @Test
    void anEmptyPromptIsTheRowsErrorAsInTheCliAndWhitespaceIsAPrompt() {
        List<Row> rows = spark.sql("SELECT llm_generate_struct(p) AS r FROM VALUES ('apple:'), (''), (' '), (NULL) "
                + "AS t(p)").collectAsList();
        assertEquals(expected("apple:"), rows.get(0).getStruct(0).getAs("text"));
        Row empty = rows.get(1).getStruct(0);
        assertEquals("error", empty.getAs("finish_reason"));
        assertEquals("prompt is empty", empty.getAs("error"));
        assertEquals(expected(" "), rows.get(2).getStruct(0).getAs("text"));
        assertNull(rows.get(3).get(0));
        SparkException failed = assertThrows(SparkException.class, () -> spark.sql(
                "SELECT llm_generate(p) FROM VALUES ('apple:'), ('') AS t(p)").collectAsList());
        assertTrue(failed.getMessage().matches("(?s).*llm_generate: row \\d+ of partition \\d+ \\(prompt \"\"\\): "
                + "prompt is empty.*"), failed.getMessage());
    }

    @Test
    void aModelPathThatIsNoCheckpointFailsAtAnalysisNamingIt() {
        AnalysisException missing = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('model', '/no/such/model')) FROM prompts"));
        assertTrue(missing.getMessage().contains("llm_generate: model /no/such/model: does not exist (checked on "
                + "the driver)"), missing.getMessage());
        AnalysisException notCheckpoint = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_generate(prompt, map('model', '" + MODEL.getParent() + "')) FROM prompts"));
        assertTrue(notCheckpoint.getMessage().contains("llm_generate: model " + MODEL.getParent() + ": no config.json"),
                notCheckpoint.getMessage());
    }
}
