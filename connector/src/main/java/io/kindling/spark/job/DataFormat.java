package io.kindling.spark.job;

import io.kindling.runtime.TableFileFormat;
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
        try {
            return valueOf(TableFileFormat.named(name).name());
        } catch (IllegalArgumentException e) {
            throw new JobException(e.getMessage(), e);
        }
    }

    /** The format a path's extension names; a directory Spark wrote has none, so it needs {@code --format}. */
    static DataFormat of(String path) {
        try {
            return valueOf(TableFileFormat.of(path).name());
        } catch (IllegalArgumentException e) {
            throw new JobException(e.getMessage(), e);
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
