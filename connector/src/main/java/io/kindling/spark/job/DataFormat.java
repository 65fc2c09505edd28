package io.kindling.spark.job;

import java.util.Locale;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The table formats the job reads and writes, each through Spark's own data source. */
enum DataFormat {
    JSONL("json"),
    PARQUET("parquet"),
    CSV("csv");

    private final String source;

    DataFormat(String source) {
        this.source = source;
    }

    /** A {@code --format} value: {@code jsonl} (or {@code json}), {@code parquet}, {@code csv}. */
    static DataFormat named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "jsonl", "json" -> JSONL;
            case "parquet" -> PARQUET;
            case "csv" -> CSV;
            default -> throw new JobException("unknown format '" + name + "': use jsonl, parquet or csv");
        };
    }

    /**
     * The format a path's extension names ({@code .jsonl}, {@code .json}, {@code .parquet}, {@code .csv}); a
     * directory Spark wrote has no extension, so it needs {@code --format}.
     */
    static DataFormat of(String path) {
        String name = path.replaceAll("/+$", "");
        int dot = name.lastIndexOf('.');
        if (dot < 0 || dot < name.lastIndexOf('/')) {
            throw new JobException("cannot tell the format of " + path + " from its name: pass --format");
        }
        String extension = name.substring(dot + 1);
        try {
            return named(extension);
        } catch (JobException e) {
            throw new JobException("cannot tell the format of " + path + " from its extension '." + extension
                    + "': pass --format jsonl, parquet or csv", e);
        }
    }

    Dataset<Row> read(DataFrameReader reader, String path) {
        return options(reader).format(source).load(path);
    }

    void write(DataFrameWriter<Row> writer, String path) {
        options(writer).format(source).save(path);
    }

    /** CSV files of a table carry a header line. */
    private DataFrameReader options(DataFrameReader reader) {
        return this == CSV ? reader.option("header", "true") : reader;
    }

    private DataFrameWriter<Row> options(DataFrameWriter<Row> writer) {
        return this == CSV ? writer.option("header", "true") : writer;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
