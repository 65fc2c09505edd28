package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every statement of the README's Spark SQL block runs, on a {@code words} table of the sample words.
 * ({@code examples/sql/define_words.sql} runs in {@link SparkJobTest}.)
 */
class ReadmeSqlTest extends SparkTestBase {

    private static final int ROWS = 6;

    @BeforeAll
    void words() {
        SparkTests.words(spark, ROWS).createOrReplaceTempView("words");
    }

    @Test
    void everySqlStatementOfTheReadmeRuns() throws IOException {
        List<String> statements = sparkSqlBlock();
        assertEquals(6, statements.size(), statements::toString);
        for (String statement : statements) {
            List<Row> rows = spark.sql(statement).collectAsList();
            int expected = statement.contains("LIMIT 5") ? 5 : ROWS;
            assertEquals(expected, rows.size(), statement);
            for (Row row : rows) {
                assertFalse(row.isNullAt(0), statement + " -> " + row);
            }
        }
    }

    /** The statements of the first {@code sql} code block after the README's Spark heading, comments dropped. */
    private static List<String> sparkSqlBlock() throws IOException {
        String readme = Files.readString(SparkTests.ROOT.resolve("README.md"));
        int start = readme.indexOf("```sql\n", readme.indexOf("\n## Spark\n"));
        assertTrue(start > 0, "no sql block in the README's Spark section");
        String block = readme.substring(start + "```sql\n".length(), readme.indexOf("```", start + 6));
        List<String> statements = new ArrayList<>();
        for (String line : block.split("\n")) {
            String sql = line.replaceAll("--.*$", "").strip();
            if (!sql.isEmpty()) {
                assertTrue(sql.endsWith(";"), line);
                statements.add(sql.substring(0, sql.length() - 1));
            }
        }
        return statements;
    }
}
