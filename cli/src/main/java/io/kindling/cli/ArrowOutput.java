package io.kindling.cli;

import io.kindling.core.CompletionOutput;
import io.kindling.sampling.TokenLogprob;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ArrowWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Arrow IPC output (file or stream format), written in record batches of {@link #BATCH_ROWS} rows. Columns: id
 * (see {@link IdKind}), text (utf8), token_ids and prompt_token_ids (list&lt;int32&gt;), finish_reason (utf8),
 * logprobs (list&lt;list&lt;struct&lt;token_id: int32, logprob: float32&gt;&gt;&gt;, null where not asked), choices
 * (list&lt;struct&lt;text, token_ids, finish_reason, logprobs, cumulative_logprob: float64&gt;&gt;, as JSONL's:
 * null unless the row asked for several completions; a choice's logprobs are null where not asked, its
 * cumulative_logprob null for a sample), parsed (utf8: the document, compact, of a row under a JSON constraint that
 * completed; else null), error (utf8). The schema is fixed, whatever the rows ask, so that every
 * output file of a job reads alike.
 */
final class ArrowOutput implements OutputWriter {

    static final int BATCH_ROWS = 1024;

    private final BufferAllocator allocator = new RootAllocator();
    private final FileChannel channel;
    private final VectorSchemaRoot root;
    private final ArrowWriter writer;
    private final IdKind idKind;
    private int rows;

    ArrowOutput(Path path, IdKind idKind, boolean stream) throws IOException {
        this.idKind = idKind;
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        this.root = VectorSchemaRoot.create(schema(idKind), allocator);
        root.allocateNew();
        this.writer = stream ? new ArrowStreamWriter(root, null, channel) : new ArrowFileWriter(root, null, channel);
        writer.start();
    }

    static Schema schema(IdKind idKind) {
        Field choice = new Field("item", FieldType.notNullable(ArrowType.Struct.INSTANCE), List.of(
                Field.notNullable("text", ArrowType.Utf8.INSTANCE),
                intList("token_ids"),
                Field.notNullable("finish_reason", ArrowType.Utf8.INSTANCE),
                logprobs(),
                Field.nullable("cumulative_logprob", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))));
        return new Schema(List.of(
                Field.nullable("id", idKind.arrowType),
                Field.nullable("text", ArrowType.Utf8.INSTANCE),
                intList("token_ids"),
                intList("prompt_token_ids"),
                Field.notNullable("finish_reason", ArrowType.Utf8.INSTANCE),
                logprobs(),
                new Field("choices", FieldType.nullable(ArrowType.List.INSTANCE), List.of(choice)),
                Field.nullable("parsed", ArrowType.Utf8.INSTANCE),
                Field.nullable("error", ArrowType.Utf8.INSTANCE)));
    }

    private static Field logprobs() {
        Field logprob = new Field("item", FieldType.notNullable(ArrowType.Struct.INSTANCE), List.of(
                Field.notNullable("token_id", new ArrowType.Int(32, true)),
                Field.notNullable("logprob", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE))));
        Field perToken = new Field("item", FieldType.notNullable(ArrowType.List.INSTANCE), List.of(logprob));
        return new Field("logprobs", FieldType.nullable(ArrowType.List.INSTANCE), List.of(perToken));
    }

    private static Field intList(String name) {
        return new Field(name, FieldType.notNullable(ArrowType.List.INSTANCE),
                List.of(Field.notNullable("item", new ArrowType.Int(32, true))));
    }

    @Override
    public void write(OutputRow row) throws IOException {
        int i = rows++;
        writeId(root.getVector("id"), i, row);
        row.text().ifPresent(t -> setText(root.getVector("text"), i, t));
        setInts((ListVector) root.getVector("token_ids"), i, row.tokenIds());
        setInts((ListVector) root.getVector("prompt_token_ids"), i, row.promptTokenIds());
        setText(root.getVector("finish_reason"), i, row.finishReason().wireName());
        row.logprobs().ifPresent(l -> setLogprobs((ListVector) root.getVector("logprobs"), i, l));
        if (!row.choices().isEmpty()) {
            setChoices((ListVector) root.getVector("choices"), i, row.choices(), row.logprobs().isPresent());
        }
        if (row.parsesJson() && row.error().isEmpty()) { // compact JSON: Arrow has no JSON value type
            setText(root.getVector("parsed"), i, OutputRow.parsed(row.text().orElse(""), false).toString());
        }
        row.error().ifPresent(e -> setText(root.getVector("error"), i, e));
        if (rows == BATCH_ROWS) {
            writeBatch();
        }
    }

    private void writeId(FieldVector v, int i, OutputRow row) {
        if (row.id().isNull()) {
            return;
        }
        switch (idKind) {
            case INT64 -> ((BigIntVector) v).setSafe(i, row.id().asLong());
            case FLOAT64 -> ((Float8Vector) v).setSafe(i, row.id().asDouble());
            case BOOL -> ((BitVector) v).setSafe(i, row.id().asBoolean() ? 1 : 0);
            case UTF8 -> setText(v, i, IdKind.asText(row.id()));
        }
    }

    private static void setText(FieldVector v, int i, String s) {
        ((VarCharVector) v).setSafe(i, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void setInts(ListVector v, int i, int[] values) {
        IntVector items = (IntVector) v.getDataVector();
        int start = v.startNewValue(i);
        for (int k = 0; k < values.length; k++) {
            items.setSafe(start + k, values[k]);
        }
        v.endValue(i, values.length);
    }

    private static void setLogprobs(ListVector v, int i, List<List<TokenLogprob>> perToken) {
        ListVector tops = (ListVector) v.getDataVector();
        StructVector entries = (StructVector) tops.getDataVector();
        IntVector tokenIds = entries.getChild("token_id", IntVector.class);
        Float4Vector logprobs = entries.getChild("logprob", Float4Vector.class);
        int start = v.startNewValue(i);
        for (int t = 0; t < perToken.size(); t++) {
            List<TokenLogprob> top = perToken.get(t);
            int entry = tops.startNewValue(start + t);
            for (TokenLogprob lp : top) {
                entries.setIndexDefined(entry);
                tokenIds.setSafe(entry, lp.tokenId());
                logprobs.setSafe(entry, lp.logprob());
                entry++;
            }
            tops.endValue(start + t, top.size());
        }
        v.endValue(i, perToken.size());
    }

    private static void setChoices(ListVector v, int i, List<CompletionOutput> choices, boolean withLogprobs) {
        StructVector entries = (StructVector) v.getDataVector();
        FieldVector text = entries.getChild("text", VarCharVector.class);
        ListVector tokenIds = entries.getChild("token_ids", ListVector.class);
        FieldVector finishReason = entries.getChild("finish_reason", VarCharVector.class);
        ListVector logprobs = entries.getChild("logprobs", ListVector.class);
        Float8Vector cumulativeLogprob = entries.getChild("cumulative_logprob", Float8Vector.class);
        int start = v.startNewValue(i);
        for (int k = 0; k < choices.size(); k++) {
            CompletionOutput c = choices.get(k);
            int entry = start + k;
            entries.setIndexDefined(entry);
            setText(text, entry, c.text());
            setInts(tokenIds, entry, c.tokenIds());
            setText(finishReason, entry, c.finishReason().wireName());
            if (withLogprobs) {
                setLogprobs(logprobs, entry, c.logprobs().orElse(List.of()));
            }
            c.cumulativeLogprob().ifPresent(x -> cumulativeLogprob.setSafe(entry, x));
        }
        v.endValue(i, choices.size());
    }

    /** Rows reach the file a whole batch at a time: a batch per step would make files of tiny batches. */
    @Override
    public void flush() {
    }

    private void writeBatch() throws IOException {
        root.setRowCount(rows);
        writer.writeBatch();
        root.clear();
        root.allocateNew();
        rows = 0;
    }

    @Override
    public void close() throws IOException {
        try (allocator; channel; root; writer) {
            if (rows > 0) {
                writeBatch();
            }
            writer.end();
        }
    }
}
