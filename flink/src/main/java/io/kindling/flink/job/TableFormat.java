package io.kindling.flink.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kindling.runtime.TableFileFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table formats the job reads and writes, each through Flink's own format (json, csv, parquet); names,
 * extensions and messages as in {@code kindling spark}'s DataFormat, so one command line works with both runners.
 */
enum TableFormat {
    JSONL("json"),
    PARQUET("parquet"),
    CSV("csv");

    /** Flink's format identifier, the filesystem connector's {@code 'format'}. */
    final String flinkFormat;

    TableFormat(String flinkFormat) {
        this.flinkFormat = flinkFormat;
    }

    /**
     * A {@code --format} value: {@code jsonl} (or {@code json}), {@code parquet}, {@code csv}.
     *
     * @throws IllegalArgumentException naming the value and the choices
     */
    static TableFormat named(String name) {
        return valueOf(TableFileFormat.named(name).name());
    }

    /** The format a path's extension names; a directory a job wrote has none, so it needs {@code --format}. */
    static TableFormat of(String path) {
        return valueOf(TableFileFormat.of(path).name());
    }

    /**
     * The columns of a file of this format: a JSON line's keys and a CSV header's names as strings (as Spark reads
     * them without a schema), a Parquet footer's columns with their types.
     */
    List<Column> columns(Path file) throws IOException {
        if (this == PARQUET) {
            return ParquetColumns.of(file);
        }
        String first;
        try (BufferedReader reader = Files.newBufferedReader(file)) {
            first = reader.readLine();
        }
        if (first == null) {
            throw new IllegalStateException("input " + file + " is empty");
        }
        List<String> names = new ArrayList<>();
        if (this == CSV) {
            names.addAll(CsvHeader.parse(first));
        } else {
            JsonNode row = JsonMapper.builder().build().readTree(first);
            row.fieldNames().forEachRemaining(names::add);
        }
        return names.stream().map(n -> new Column(n, "STRING")).toList();
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
