package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.StructType;

/**
 * The DataFrame side of {@code llm_generate}, {@code llm_generate_struct} and {@code llm_extract}: calls of the SQL
 * functions by name ({@code call_function}), so they work
 * over Spark Connect too, wherever the server has {@link KindlingExtensions}.
 *
 * <pre>{@code
 * import static io.kindling.spark.functions.llm_generate;
 * df.withColumn("answer", llm_generate(col("prompt"), Map.of("maxTokens", "64", "temperature", "0")));
 * }</pre>
 */
public final class functions {

    private functions() {
    }

    /** The model's completion of {@code prompt}, with the session's {@code spark.kindling.*} options. */
    public static Column llm_generate(Column prompt) {
        return call("llm_generate", prompt, Map.of());
    }

    /** The model's completion of {@code prompt}; {@code options} override the session's (same names). */
    public static Column llm_generate(Column prompt, Map<String, String> options) {
        return call("llm_generate", prompt, options);
    }

    /**
     * The completion with its details: struct&lt;text, finish_reason, prompt_tokens, completion_tokens, error,
     * choices&gt;, {@code choices} listing every completion when {@code n > 1} or with beam search.
     */
    public static Column llm_generate_struct(Column prompt) {
        return call("llm_generate_struct", prompt, Map.of());
    }

    /** {@link #llm_generate_struct(Column)} with per-call options. */
    public static Column llm_generate_struct(Column prompt, Map<String, String> options) {
        return call("llm_generate_struct", prompt, options);
    }

    /**
     * The completion of {@code prompt} as a struct of {@code schema} (DDL: {@code "name STRING, price DECIMAL(10,2),
     * tags ARRAY<STRING>"}), generated under the JSON schema derived from it, so every row parses.
     */
    public static Column llm_extract(Column prompt, String schema) {
        return llm_extract(prompt, schema, Map.of());
    }

    /** {@link #llm_extract(Column, String)} with per-call options. */
    public static Column llm_extract(Column prompt, String schema, Map<String, String> options) {
        return call("llm_extract", List.of(prompt, org.apache.spark.sql.functions.lit(schema)), options);
    }

    /**
     * {@link #llm_extract(Column, String)} with a struct type: nullable fields are optional, and a string field's
     * {@code enum} metadata (a string array) lists its allowed values.
     */
    public static Column llm_extract(Column prompt, StructType schema) {
        return llm_extract(prompt, schema.json(), Map.of());
    }

    /** {@link #llm_extract(Column, StructType)} with per-call options. */
    public static Column llm_extract(Column prompt, StructType schema, Map<String, String> options) {
        return llm_extract(prompt, schema.json(), options);
    }

    private static Column call(String name, Column prompt, Map<String, String> options) {
        return call(name, List.of(prompt), options);
    }

    private static Column call(String name, List<Column> args, Map<String, String> options) {
        List<Column> all = new ArrayList<>(args);
        if (!options.isEmpty()) {
            List<Column> entries = new ArrayList<>();
            new TreeMap<>(options).forEach((k, v) -> {
                entries.add(org.apache.spark.sql.functions.lit(k));
                entries.add(org.apache.spark.sql.functions.lit(v));
            });
            all.add(org.apache.spark.sql.functions.map(entries.toArray(Column[]::new)));
        }
        return org.apache.spark.sql.functions.call_function(name, all.toArray(Column[]::new));
    }
}
