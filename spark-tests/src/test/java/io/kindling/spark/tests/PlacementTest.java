package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model runs once, and only for the rows that reach the output: counted as requests the engine received, with
 * the executed plans that explain the counts.
 */
class PlacementTest extends SparkTestBase {

    private static final int ROWS = 40;

    /** id -> generated text of every row, computed once with no operator above the call. */
    private Map<String, String> all;

    @BeforeAll
    void words() {
        SparkTests.words(spark, ROWS).repartition(4).createOrReplaceTempView("words");
        all = new TreeMap<>(SparkTests.byKey(spark.sql("SELECT id, llm_generate(prompt) AS d FROM words"), "id", "d"));
        assertEquals(ROWS, all.size());
    }

    @Test
    void orderByAnotherColumnWithLimitGeneratesOnlyTheRowsKept() {
        Dataset<Row> top = spark.sql("SELECT id, llm_generate(prompt) AS d FROM words ORDER BY id LIMIT 5");
        SparkTests.Counted<List<Row>> run = SparkTests.countRequests(top::collectAsList);

        assertEquals(5, run.requests());
        assertEquals(firstRows(5), rows(run.result()));
        List<String> nodes = SparkTests.executedNodes(top);
        assertTrue(nodes.indexOf("LlmEvalExec") < nodes.indexOf("TakeOrderedAndProjectExec"), nodes::toString);

        Dataset<Row> api = spark.table("words").withColumn("d", llm_generate(col("prompt"))).orderBy("id").limit(2)
                .select("id", "d");
        SparkTests.Counted<List<Row>> apiRun = SparkTests.countRequests(api::collectAsList);
        assertEquals(2, apiRun.requests());
        assertEquals(firstRows(2), rows(apiRun.result()));
    }

    @Test
    void orderByAnotherColumnGeneratesEachRowOnceAfterTheSort() {
        Dataset<Row> sorted = spark.sql("SELECT id, llm_generate(prompt) AS d FROM words ORDER BY id");
        SparkTests.Counted<List<Row>> run = SparkTests.countRequests(sorted::collectAsList);

        assertEquals(ROWS, run.requests(), "the range partitioner's sampling pass must not run the model");
        assertEquals(all, rows(run.result()));
        List<String> ids = run.result().stream().map(r -> r.getString(0)).toList();
        assertEquals(ids.stream().sorted().toList(), ids);
        List<String> nodes = SparkTests.executedNodes(sorted);
        assertTrue(nodes.indexOf("LlmEvalExec") < nodes.indexOf("SortExec"), nodes::toString);
    }

    @Test
    void filterOnAnotherColumnGeneratesOnlyTheRowsKept() {
        Dataset<Row> some = spark.sql("SELECT id, llm_generate(prompt) AS d FROM words WHERE prompt < 'b'");
        SparkTests.Counted<List<Row>> run = SparkTests.countRequests(some::collectAsList);

        long kept = spark.sql("SELECT * FROM words WHERE prompt < 'b'").count();
        assertTrue(kept > 0 && kept < ROWS, "rows kept: " + kept);
        assertEquals(kept, run.requests());
        rows(run.result()).forEach((id, d) -> assertEquals(all.get(id), d, id));
    }

    @Test
    void orderByTheResultGeneratesEachRowOnceAndExplainSaysWhyItRunsBelow() {
        Dataset<Row> sorted = spark.sql("SELECT id, llm_generate(prompt) AS d FROM words ORDER BY d, id");
        SparkTests.Counted<List<Row>> run = SparkTests.countRequests(sorted::collectAsList);

        assertEquals(ROWS, run.requests(), "the range partitioner's sampling pass must not run the model");
        assertEquals(all, rows(run.result()));
        String explained = sorted.queryExecution().explainString(
                org.apache.spark.sql.execution.ExplainMode.fromString("simple"));
        assertTrue(explained.contains("LlmEval") && explained.contains("evaluated below Sort, whose order reads its "
                + "result; a round-robin exchange under the range partitioning keeps its sampling pass from running "
                + "the model again"), explained);
    }

    @Test
    void aSelfJoinOfTheResultGeneratesEachRowOnce() {
        Dataset<Row> defined = spark.table("words").withColumn("d", llm_generate(col("prompt")));
        Dataset<Row> joined = defined.alias("a").join(defined.alias("b"), "id")
                .select(col("id"), col("a.d"), col("b.d").as("d2"));
        SparkTests.Counted<List<Row>> run = SparkTests.countRequests(joined::collectAsList);

        assertEquals(ROWS, run.result().size());
        run.result().forEach(r -> assertEquals(r.getString(1), r.getString(2)));
        assertEquals(ROWS, run.requests(), SparkTests.executedNodes(joined)::toString);
    }

    @Test
    void aCachedResultServesTwoActionsFromOneGeneration() {
        Dataset<Row> defined = spark.table("words").select(col("id"), llm_generate(col("prompt")).as("d")).cache();
        try {
            SparkTests.Counted<Long> counted = SparkTests.countRequests(defined::count);
            SparkTests.Counted<List<Row>> collected = SparkTests.countRequests(defined::collectAsList);

            assertEquals(ROWS, counted.result());
            assertEquals(ROWS, counted.requests());
            assertEquals(0, collected.requests());
            assertEquals(all, rows(collected.result()));
        } finally {
            defined.unpersist(true);
        }
    }

    private Map<String, String> firstRows(int n) {
        return all.entrySet().stream().limit(n).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue,
                (a, b) -> a, TreeMap::new));
    }

    /** id -> d of result rows whose first two columns are those. */
    private static Map<String, String> rows(List<Row> rows) {
        Map<String, String> map = new TreeMap<>();
        rows.forEach(r -> map.put(r.getString(0), r.getString(1)));
        return map;
    }
}
