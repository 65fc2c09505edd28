package io.kindling.examples;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;

import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * An ETL job: reads a Parquet table of words, adds a dictionary definition of each from the bundled model with
 * {@code llm_generate}, writes a Parquet table.
 *
 * <pre>
 * DefineWords MODEL WORDS OUTPUT
 *   MODEL   model directory (examples/models/kindling-define-6m), a local path or a Hadoop URI
 *   WORDS   the words: a Parquet table with columns id and prompt ("word:"); a .jsonl file (such as
 *           examples/data/words.jsonl) is first staged as Parquet next to OUTPUT, as a pipeline's earlier step would
 *   OUTPUT  Parquet directory to write (replaced if it exists)
 * </pre>
 */
public final class DefineWords {

    private DefineWords() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: DefineWords MODEL WORDS OUTPUT");
            System.exit(2);
        }
        String model = args[0];
        String words = args[1];
        String output = args[2];
        SparkSession spark = SparkSession.builder()
                .appName("define words")
                .master(System.getProperty("spark.master", "local[*]"))
                .config("spark.sql.extensions", "io.kindling.spark.KindlingExtensions")
                .config("spark.kindling.model", model)
                .getOrCreate();
        try {
            String table = words.endsWith(".jsonl") ? stage(spark, words, output + ".words.parquet") : words;
            define(spark.read().parquet(table)).write().mode(SaveMode.Overwrite).parquet(output);
            spark.read().parquet(output).show(5, false);
        } finally {
            spark.stop();
        }
    }

    /** The job's one transformation: a definition column, greedy, at most 48 tokens. */
    static Dataset<Row> define(Dataset<Row> words) {
        return words.withColumn("definition",
                llm_generate(col("prompt"), Map.of("max_tokens", "48", "temperature", "0")));
    }

    /** Writes the JSONL words as the Parquet table the job reads; returns its path. */
    private static String stage(SparkSession spark, String jsonl, String parquet) {
        spark.read().json(jsonl).write().mode(SaveMode.Overwrite).parquet(parquet);
        return parquet;
    }
}
