package io.kindling.flink.job;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.IntLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * A Parquet file's columns as Flink SQL types, read from its footer: Flink's filesystem tables need a declared schema,
 * and Flink converts only the other way. Flat columns only: the job carries every column through unchanged, and a
 * nested one is for a SQL script.
 */
final class ParquetColumns {

    private ParquetColumns() {
    }

    static List<Column> of(Path file) throws IOException {
        List<Column> columns = new ArrayList<>();
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
            for (Type field : reader.getFooter().getFileMetaData().getSchema().getFields()) {
                columns.add(new Column(field.getName(), sqlType(file, field)));
            }
        }
        return columns;
    }

    private static String sqlType(Path file, Type field) {
        if (!field.isPrimitive() || field.isRepetition(Type.Repetition.REPEATED)) {
            throw new IllegalStateException("input " + file + ": column '" + field.getName() + "' is nested ("
                    + field + "); the table job carries flat columns only, use --sql for this table");
        }
        PrimitiveType type = field.asPrimitiveType();
        LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
        if (logical instanceof DecimalLogicalTypeAnnotation d) {
            return "DECIMAL(" + d.getPrecision() + ", " + d.getScale() + ")";
        }
        return switch (type.getPrimitiveTypeName()) {
            case BOOLEAN -> "BOOLEAN";
            case INT32 -> logical instanceof LogicalTypeAnnotation.DateLogicalTypeAnnotation ? "DATE"
                    : logical instanceof IntLogicalTypeAnnotation i && i.getBitWidth() == 8 ? "TINYINT"
                    : logical instanceof IntLogicalTypeAnnotation i && i.getBitWidth() == 16 ? "SMALLINT" : "INT";
            case INT64 -> logical instanceof TimestampLogicalTypeAnnotation t
                    ? (t.isAdjustedToUTC() ? "TIMESTAMP_LTZ(" : "TIMESTAMP(") + switch (t.getUnit()) {
                        case MILLIS -> 3;
                        case MICROS -> 6;
                        case NANOS -> 9;
                    } + ")"
                    : "BIGINT";
            case INT96 -> "TIMESTAMP(9)";
            case FLOAT -> "FLOAT";
            case DOUBLE -> "DOUBLE";
            case BINARY, FIXED_LEN_BYTE_ARRAY -> logical == null ? "BYTES" : "STRING";
        };
    }
}
