package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_extract;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Structured output in Spark: {@code llm_extract} returns a typed struct for every row (the bundled model is
 * constrained by the JSON schema derived from the Spark type, and Spark's from_json parses it), the same with 1 and
 * 3 partitions; {@code llm_generate} takes {@code responseFormat}.
 */
class ExtractTest extends SparkTestBase {

    static final Set<String> PARTS_OF_SPEECH = Set.of("noun", "verb", "adjective", "adverb");
    static final StructType WORD = new StructType()
            .add("part_of_speech", DataTypes.StringType, false, new MetadataBuilder()
                    .putStringArray("enum", PARTS_OF_SPEECH.stream().sorted().toArray(String[]::new)).build())
            .add("definition", DataTypes.StringType, false)
            .add("synonyms", DataTypes.createArrayType(DataTypes.StringType), false);
    static final Map<String, String> OPTIONS = Map.of("maxTokens", "48", "temperature", "0");

    private List<Row> extract(int partitions) {
        Dataset<Row> words = SparkTests.words(spark, 24).repartition(partitions);
        return words.select(col("id"), llm_extract(col("prompt"), WORD, OPTIONS).as("w")).orderBy("id")
                .collectAsList();
    }

    @Test
    void everyWordComesBackTypedAndPartitionsDoNotMatter() {
        List<Row> one = extract(1);
        assertEquals(24, one.size());
        for (Row r : one) {
            Row w = r.getStruct(1);
            assertNotNull(w, r.toString());
            assertTrue(PARTS_OF_SPEECH.contains(w.getString(0)), r.toString());
            assertNotNull(w.getString(1), r.toString());
            assertNotNull(w.getList(2), r.toString());
        }
        assertEquals(one, extract(3));
    }

    @Test
    void sqlTakesADdlSchemaWithDecimalsAndDates() {
        SparkTests.words(spark, 6).createOrReplaceTempView("words6");
        Dataset<Row> items = spark.sql("SELECT id, llm_extract(prompt, 'name STRING, price DECIMAL(10,2), "
                + "tags ARRAY<STRING>, seen DATE, note STRING', map('maxTokens', '64', 'temperature', '0')) AS item "
                + "FROM words6");
        assertEquals(DataTypes.createDecimalType(10, 2), ((StructType) items.schema().apply("item").dataType())
                .apply("price").dataType());
        for (Row r : items.collectAsList()) {
            Row item = r.getStruct(1);
            assertNotNull(item, r.toString());
            BigDecimal price = item.getDecimal(1);
            assertTrue(price == null || price.scale() <= 2, r.toString()); // nullable: optional in the schema
        }
    }

    @Test
    void aRowCutShortIsARowError() {
        // 3 tokens cannot hold {"definition": ...}: the struct variant records why, llm_extract gives null on request
        List<Row> structs = SparkTests.words(spark, 3).selectExpr("llm_generate_struct(prompt, map('maxTokens', '3', "
                + "'responseFormat', '{\"type\": \"object\", \"properties\": {\"definition\": {\"type\": "
                + "\"string\"}}, \"required\": [\"definition\"]}')) AS r").collectAsList();
        for (Row r : structs) {
            Row s = r.getStruct(0);
            assertEquals("error", s.getString(1), r.toString());
            assertTrue(s.getString(4).contains("before it was a complete json_schema match"), r.toString());
        }
        List<Row> extracted = SparkTests.words(spark, 3).select(llm_extract(col("prompt"), "definition STRING NOT NULL",
                Map.of("maxTokens", "3", "onError", "null"))).collectAsList();
        extracted.forEach(r -> assertTrue(r.isNullAt(0), r.toString()));
    }

    @Test
    void llmGenerateTakesAResponseFormat() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"ok\": {\"type\": \"boolean\"}}, "
                + "\"required\": [\"ok\"], \"additionalProperties\": false}";
        List<Row> rows = SparkTests.words(spark, 4).selectExpr("llm_generate(prompt, map('temperature', '0', "
                + "'response_format', '" + schema + "')) AS j").collectAsList();
        ObjectMapper json = new ObjectMapper();
        for (Row r : rows) {
            assertTrue(json.readTree(r.getString(0)).get("ok").isBoolean(), r.toString());
        }
        AnalysisException bad = assertThrows(AnalysisException.class, () -> spark.sql("SELECT llm_generate('x', "
                + "map('responseFormat', '{\"type\": \"string\", \"pattern\": \"a\"}'))").collectAsList());
        assertTrue(bad.getMessage().contains("keyword 'pattern' is not supported"), bad.getMessage());
        AnalysisException type = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_extract('x', 'm MAP<STRING, INT>')").collectAsList());
        assertFalse(type.getMessage().isEmpty());
        assertTrue(type.getMessage().contains("map<string,int> is not supported"), type.getMessage());
        // an option error names the function the user called
        AnalysisException option = assertThrows(AnalysisException.class, () -> spark.sql(
                "SELECT llm_extract('x', 'a STRING', map('max_tokens', '0'))").collectAsList());
        assertTrue(option.getMessage().contains("llm_extract: option 'max_tokens' must be at least 1, got 0"),
                option.getMessage());
    }
}
