package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * The Arrow type of the output {@code id} column, which follows the input: an Arrow input keeps its id column's
 * kind (integers, floats, booleans, else text); JSONL ids, which may be any JSON value, become text (a string as
 * itself, anything else as its JSON).
 */
enum IdKind {
    INT64(new ArrowType.Int(64, true)),
    FLOAT64(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
    BOOL(ArrowType.Bool.INSTANCE),
    UTF8(ArrowType.Utf8.INSTANCE);

    final ArrowType arrowType;

    IdKind(ArrowType arrowType) {
        this.arrowType = arrowType;
    }

    static IdKind of(ArrowType type) {
        if (type instanceof ArrowType.Int) {
            return INT64;
        }
        if (type instanceof ArrowType.FloatingPoint) {
            return FLOAT64;
        }
        return type instanceof ArrowType.Bool ? BOOL : UTF8;
    }

    static String asText(JsonNode id) {
        return id.isTextual() ? id.textValue() : id.toString();
    }
}
