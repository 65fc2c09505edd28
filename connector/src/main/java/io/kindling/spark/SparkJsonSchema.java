package io.kindling.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The JSON schema of a Spark struct, for {@code llm_extract}: each field a property in field order, non-nullable
 * fields required, nothing else allowed; strings (with the values of a field's {@code enum} metadata, a string
 * array, when it has one), integers within their type's range, decimals within their precision and with at most
 * their scale of fraction digits, floating point numbers, booleans, dates ({@code yyyy-MM-dd}), arrays and nested
 * structs. Any other type is an error that names it.
 */
final class SparkJsonSchema {

    /** The metadata key whose string array lists a string field's allowed values. */
    static final String ENUM = "enum";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SparkJsonSchema() {
    }

    static String of(StructType type) {
        return struct(type, "").toString();
    }

    private static ObjectNode struct(StructType type, String path) {
        ObjectNode schema = MAPPER.createObjectNode().put("type", "object");
        ObjectNode properties = schema.putObject("properties");
        ArrayNode required = schema.putArray("required");
        for (StructField f : type.fields()) {
            String where = path.isEmpty() ? f.name() : path + "." + f.name();
            ObjectNode property = value(f.dataType(), where);
            if (f.dataType() instanceof StringType && f.metadata().contains(ENUM)) {
                ArrayNode values = MAPPER.createArrayNode();
                for (String v : f.metadata().getStringArray(ENUM)) {
                    values.add(v);
                }
                property = MAPPER.createObjectNode();
                property.set("enum", values);
            }
            properties.set(f.name(), property);
            if (!f.nullable()) {
                required.add(f.name());
            }
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    private static ObjectNode value(DataType type, String path) {
        ObjectNode schema = MAPPER.createObjectNode();
        if (type instanceof StringType) {
            return schema.put("type", "string");
        }
        if (type instanceof BooleanType) {
            return schema.put("type", "boolean");
        }
        if (type instanceof ByteType) {
            return schema.put("type", "integer").put("minimum", Byte.MIN_VALUE).put("maximum", Byte.MAX_VALUE);
        }
        if (type instanceof ShortType) {
            return schema.put("type", "integer").put("minimum", Short.MIN_VALUE).put("maximum", Short.MAX_VALUE);
        }
        if (type instanceof IntegerType) {
            return schema.put("type", "integer").put("minimum", Integer.MIN_VALUE).put("maximum", Integer.MAX_VALUE);
        }
        if (type instanceof LongType) {
            // 18 digits: the bounds themselves must stay within a long once negated
            return schema.put("type", "integer").put("minimum", -999_999_999_999_999_999L)
                    .put("maximum", 999_999_999_999_999_999L);
        }
        if (type instanceof FloatType || type instanceof DoubleType) {
            return schema.put("type", "number");
        }
        if (type instanceof DecimalType d) {
            int integerDigits = d.precision() - d.scale();
            if (integerDigits > 18) {
                throw new IllegalArgumentException(path + ": " + d.simpleString() + " has more than 18 integer "
                        + "digits, which llm_extract does not support");
            }
            long limit = BigDecimal.TEN.pow(integerDigits).longValueExact(); // |value| < 10^(precision - scale)
            if (d.scale() == 0) {
                return schema.put("type", "integer").put("minimum", 1 - limit).put("maximum", limit - 1);
            }
            return schema.put("type", "number").put("exclusiveMinimum", -limit).put("exclusiveMaximum", limit)
                    .put("multipleOf", BigDecimal.ONE.movePointLeft(d.scale()));
        }
        if (type instanceof DateType) {
            return schema.put("type", "string").put("format", "date");
        }
        if (type instanceof ArrayType a) {
            schema.put("type", "array");
            schema.set("items", value(a.elementType(), path + "[]"));
            return schema;
        }
        if (type instanceof StructType s) {
            return struct(s, path);
        }
        throw new IllegalArgumentException(path + ": type " + type.simpleString() + " is not supported by "
                + "llm_extract (strings, numbers, decimals, booleans, dates, arrays and structs are)");
    }
}
