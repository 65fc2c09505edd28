package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;

/**
 * Arrow IPC input, one record batch in memory at a time. Its columns carry the JSONL field names ({@code prompt},
 * {@code prompt_token_ids} or {@code messages}, optional {@code id} and sampling columns); each row becomes the
 * JSON object a JSONL line would hold (null cells left out), so both formats share one validation. Without an
 * {@code id} column a row's id is its 0-based index. An unknown column is refused when the file is opened.
 */
final class ArrowInput implements InputSource {

    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    private final Path path;
    private final BufferAllocator allocator = new RootAllocator();
    private final SeekableByteChannel channel;
    private final ArrowReader reader;
    private final VectorSchemaRoot root;
    private final boolean hasId;
    private long index;
    private int batchRow;

    ArrowInput(Path path, boolean stream) throws IOException {
        this.path = path;
        this.channel = Files.newByteChannel(path);
        try {
            this.reader = stream ? new ArrowStreamReader(channel, allocator) : new ArrowFileReader(channel, allocator);
            this.root = reader.getVectorSchemaRoot();
        } catch (IOException | RuntimeException e) {
            close();
            throw new IOException("not an Arrow IPC " + (stream ? "stream" : "file") + ": " + e.getMessage(), e);
        }
        Schema schema = root.getSchema();
        this.hasId = schema.getFields().stream().anyMatch(f -> f.getName().equals("id"));
        checkColumns(schema);
    }

    /** pandas stores a DataFrame's non-default index as columns named like this; they are not row fields. */
    private static boolean isPandasIndex(String column) {
        return column.startsWith("__index_level_");
    }

    private void checkColumns(Schema schema) throws IOException {
        for (Field f : schema.getFields()) {
            if (!RowParser.isKnownField(f.getName()) && !isPandasIndex(f.getName())) {
                close();
                throw new IOException("unknown column '" + f.getName() + "' (expected id, one of "
                        + String.join(", ", RowParser.PROMPT_FIELDS) + ", and sampling columns named as in JSONL)");
            }
        }
        if (RowParser.PROMPT_FIELDS.stream().noneMatch(p -> schema.getFields().stream()
                .anyMatch(f -> f.getName().equals(p)))) {
            close();
            throw new IOException("no prompt column: expected one of " + String.join(", ", RowParser.PROMPT_FIELDS));
        }
    }

    @Override
    public boolean hasNext() {
        try {
            while (batchRow >= root.getRowCount()) {
                if (!reader.loadNextBatch()) {
                    return false;
                }
                batchRow = 0;
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " after row " + index, e);
        } catch (IllegalArgumentException e) {
            // what Arrow Java throws for LZ4/ZSTD batches, pandas' default for feather files
            throw new UncheckedIOException("cannot read " + path + " after row " + index
                    + " (compressed Arrow batches are not supported: write with compression='uncompressed')",
                    new IOException(e.getMessage(), e));
        }
    }

    @Override
    public RawRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        ObjectNode row = NODES.objectNode();
        if (!hasId) {
            row.put("id", index);
        }
        for (FieldVector v : root.getFieldVectors()) {
            if (!v.isNull(batchRow) && !isPandasIndex(v.getName())) {
                row.set(v.getName(), toJson(v.getObject(batchRow)));
            }
        }
        batchRow++;
        long i = index++;
        return new RawRow.Fields(i, "row " + i, row);
    }

    /** A cell as JSON: Arrow's Java values (Text, boxed numbers, lists, struct maps) mapped one to one. */
    static JsonNode toJson(Object value) {
        if (value == null) {
            return NODES.nullNode();
        } else if (value instanceof Text || value instanceof CharSequence) {
            return NODES.textNode(value.toString());
        } else if (value instanceof Boolean b) {
            return NODES.booleanNode(b);
        } else if (value instanceof Float f) {
            // the decimal a float32 column was written from (0.7, not 0.699999988)
            return NODES.numberNode(new BigDecimal(Float.toString(f)));
        } else if (value instanceof Double d) {
            return NODES.numberNode(d);
        } else if (value instanceof BigDecimal d) {
            return NODES.numberNode(d);
        } else if (value instanceof Number n) {
            return NODES.numberNode(n.longValue());
        } else if (value instanceof List<?> list) {
            ArrayNode array = NODES.arrayNode(list.size());
            list.forEach(item -> array.add(toJson(item)));
            return array;
        } else if (value instanceof Map<?, ?> map) {
            ObjectNode object = NODES.objectNode();
            map.forEach((k, v) -> object.set(k.toString(), toJson(v)));
            return object;
        }
        return NODES.textNode(value.toString());
    }

    @Override
    public OptionalLong rowCount() {
        return OptionalLong.empty();
    }

    @Override
    public IdKind idKind() {
        return hasId ? IdKind.of(root.getSchema().findField("id").getType()) : IdKind.INT64;
    }

    @Override
    public void close() throws IOException {
        try (allocator; channel) {
            if (reader != null) {
                reader.close();
            }
        }
    }
}
