package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * A row's own sampling options from its columns ({@code map('max_tokens', max_tokens)}), as a JSONL row gives them
 * to {@code kindling generate}: each row gets exactly what the same option as a literal would give it.
 */
class RowOptionsTest extends SparkTestBase {

    /** Twelve words with a max_tokens of 1, 3, 7 or 12 and a seed of 5 or 9. */
    private Dataset<Row> words() {
        SparkTests.words(spark, 12).createOrReplaceTempView("w12");
        return spark.sql("SELECT id, prompt, element_at(array(1, 3, 7, 12), pmod(hash(id), 4) + 1) AS mt, "
                + "CAST(IF(pmod(hash(id), 3) = 0, 5, 9) AS BIGINT) AS s, 0.8D AS t FROM w12");
    }

    @Test
    void eachRowGetsWhatItsOwnMaxTokensAndSeedAsLiteralsWouldGive() {
        Dataset<Row> words = words().cache();
        // values of several types in one map: a string, an int, a bigint and a double column
        List<Row> perRow = words.selectExpr("id", "mt", "s", "llm_generate_struct(prompt, map('ignore_eos', 'true', "
                + "'max_tokens', mt, 'seed', s, 'temperature', t)) AS o").orderBy("id").collectAsList();
        assertEquals(12, perRow.size());
        assertTrue(perRow.stream().map(r -> r.getInt(1)).distinct().count() > 2, "max_tokens should vary");
        for (Row r : perRow) {
            Row o = r.getStruct(3);
            assertNull(o.getAs("error"), r.getString(0));
            assertEquals(r.getInt(1), (int) o.<Integer>getAs("completion_tokens"), r.getString(0));
            String literal = words.filter("id = '" + r.getString(0) + "'").selectExpr("llm_generate(prompt, map("
                    + "'temperature', '0.8', 'ignore_eos', 'true', 'max_tokens', '" + r.getInt(1) + "', 'seed', '"
                    + r.getLong(2) + "'))").first().getString(0);
            assertEquals(literal, o.getAs("text"), r.getString(0));
        }
        words.unpersist();
    }

    @Test
    void aBadValueIsThatRowsErrorNamingTheOption() {
        List<Row> rows = words().selectExpr("id", "llm_generate_struct(prompt, map('max_tokens', "
                + "IF(id = (SELECT min(id) FROM w12), 0, mt))) AS o").orderBy("id").collectAsList();
        assertEquals("option 'max_tokens' must be at least 1, got 0", rows.get(0).getStruct(1).getAs("error"));
        rows.subList(1, rows.size()).forEach(r -> assertNull(r.getStruct(1).getAs("error"), r.getString(0)));
    }

    @Test
    void aMapColumnIsReadRowByRowAndItsKeysChecked() {
        List<Row> rows = words().selectExpr("id", "llm_generate_struct(prompt, IF(mt = 1, map('max_tokens', "
                + "CAST(mt AS STRING)), map('max_num_seqs', '4'))) AS o").orderBy("id").collectAsList();
        for (Row r : rows) {
            Row o = r.getStruct(1);
            if (o.getAs("error") == null) {
                assertEquals(1, (int) o.<Integer>getAs("completion_tokens"), r.getString(0));
            } else {
                assertTrue(o.<String>getAs("error").startsWith("option 'max_num_seqs' cannot be a row's own; a row "
                        + "may set maxTokens, "), o.<String>getAs("error"));
            }
        }
    }

    @Test
    void optionsOfTheWholeCallOrEngineMustBeLiterals() {
        words();
        for (Map.Entry<String, String> e : Map.of("max_num_seqs", "applies to the whole call or engine",
                "n", "shapes the call's output").entrySet()) {
            AnalysisException error = assertThrows(AnalysisException.class, () -> spark.sql(
                    "SELECT llm_generate(prompt, map('" + e.getKey() + "', mt)) FROM (SELECT prompt, 2 AS mt FROM "
                            + "w12)").queryExecution().assertAnalyzed());
            assertTrue(error.getMessage().contains("option '" + e.getKey() + "' must be a literal: it "
                    + e.getValue()), error.getMessage());
        }
    }
}
