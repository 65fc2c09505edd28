package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.sampling.SamplingParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.complex.writer.BaseWriter.StructWriter;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ArrowWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArrowInputTest {

    @TempDir
    Path dir;

    private static Field list(String name, ArrowType item) {
        return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(Field.nullable("item", item)));
    }

    /**
     * Four rows as pyarrow would write them: text, token ids (int64), chat messages and an empty prompt, with an
     * int32 id column and float32/list sampling columns.
     */
    private static void writeInput(Path path, boolean stream) throws IOException {
        Field message = new Field("item", FieldType.nullable(ArrowType.Struct.INSTANCE), List.of(
                Field.nullable("role", ArrowType.Utf8.INSTANCE), Field.nullable("content", ArrowType.Utf8.INSTANCE)));
        Schema schema = new Schema(List.of(
                Field.nullable("id", new ArrowType.Int(32, true)),
                Field.nullable("prompt", ArrowType.Utf8.INSTANCE),
                list("prompt_token_ids", new ArrowType.Int(64, true)),
                new Field("messages", FieldType.nullable(ArrowType.List.INSTANCE), List.of(message)),
                Field.nullable("temperature", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                list("stop", ArrowType.Utf8.INSTANCE)));
        try (RootAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
             FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             ArrowWriter writer = stream ? new ArrowStreamWriter(root, null, channel)
                     : new ArrowFileWriter(root, null, channel)) {
            root.allocateNew();
            IntVector id = (IntVector) root.getVector("id");
            id.setSafe(0, 10);
            id.setSafe(1, 11);
            id.setSafe(2, 12);
            VarCharVector prompt = (VarCharVector) root.getVector("prompt");
            prompt.setSafe(0, new Text("Hello"));
            prompt.setSafe(3, new Text(""));
            UnionListWriter ids = ((ListVector) root.getVector("prompt_token_ids")).getWriter();
            ids.setPosition(1);
            ids.startList();
            for (long t : new long[] {1, 2, 3}) {
                ids.writeBigInt(t);
            }
            ids.endList();
            UnionListWriter messages = ((ListVector) root.getVector("messages")).getWriter();
            messages.setPosition(2);
            messages.startList();
            StructWriter m = messages.struct();
            m.start();
            m.varChar("role").writeVarChar("user");
            m.varChar("content").writeVarChar("Hi");
            m.end();
            messages.endList();
            ((Float4Vector) root.getVector("temperature")).setSafe(0, 0.7f);
            UnionListWriter stop = ((ListVector) root.getVector("stop")).getWriter();
            stop.setPosition(0);
            stop.startList();
            stop.writeVarChar("\n");
            stop.endList();
            root.setRowCount(4);
            writer.start();
            writer.writeBatch();
            writer.end();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"in.arrow", "in.arrows"})
    void rowsBecomeTheSameSpecsAJsonlLineWould(String name) throws IOException {
        Path in = dir.resolve(name);
        writeInput(in, name.endsWith(".arrows"));
        SamplingParams defaults = SamplingParams.builder().maxTokens(8).build();
        RowParser parser = new RowParser(defaults, 100);
        try (InputSource source = InputSource.open(in)) {
            assertEquals(IdKind.INT64, source.idKind());
            assertEquals(OptionalLong.empty(), source.rowCount());

            InputRow.Spec text = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertEquals("row 0", text.where());
            assertEquals("10", text.id().toString());
            assertEquals(new Prompt.Text("Hello"), text.prompt());
            assertEquals(defaults.toBuilder().temperature(0.7).stop(List.of("\n")).build(), text.params());

            InputRow.Spec ids = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertEquals("11", ids.id().toString());
            assertArrayEquals(new int[] {1, 2, 3}, assertInstanceOf(Prompt.TokenIds.class, ids.prompt()).ids());
            assertEquals(defaults, ids.params());

            InputRow.Spec chat = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertEquals(new Prompt.Chat(List.of(Map.of("role", "user", "content", "Hi"))), chat.prompt());

            InputRow.Rejected empty = assertInstanceOf(InputRow.Rejected.class, parser.parse(source.next()));
            assertEquals("null", empty.id().toString());
            assertEquals("row 3: prompt is empty", empty.error());
            assertFalse(source.hasNext());
        }
    }

    private static Path resource(String name) {
        try {
            return Path.of(ArrowInputTest.class.getResource("/cli/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** A file pandas wrote (see resources/cli/make_fixtures.py): large_string, int64 lists, NaN-gapped ints. */
    @Test
    void readsWhatPandasWrites() throws IOException {
        RowParser parser = new RowParser(SamplingParams.builder().build(), 100);
        try (InputSource source = InputSource.open(resource("pandas.arrow"))) {
            assertEquals(IdKind.UTF8, source.idKind());
            InputRow.Spec text = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertEquals("\"a\"", text.id().toString());
            assertEquals(new Prompt.Text("Hello"), text.prompt());
            assertEquals(SamplingParams.builder().maxTokens(8).temperature(0.7).stop(List.of("\n")).build(),
                    text.params());

            InputRow.Spec ids = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertArrayEquals(new int[] {1, 2, 3}, assertInstanceOf(Prompt.TokenIds.class, ids.prompt()).ids());
            assertEquals(SamplingParams.builder().build(), ids.params());

            InputRow.Spec chat = assertInstanceOf(InputRow.Spec.class, parser.parse(source.next()));
            assertEquals(new Prompt.Chat(List.of(Map.of("role", "user", "content", "hi"))), chat.prompt());
            assertEquals(4, chat.params().maxTokens());
            assertFalse(source.hasNext());
        }
    }

    @Test
    void compressedBatchesFailWithAHint() throws IOException {
        Path lz4 = resource("pandas-lz4.arrow");
        try (InputSource source = InputSource.open(lz4)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, source::hasNext);
            assertEquals("cannot read " + lz4 + " after row 0 (compressed Arrow batches are not supported: "
                    + "write with compression='uncompressed')", e.getMessage());
        }
    }

    private void writeColumns(Path path, Field... fields) throws IOException {
        try (RootAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(fields)), allocator);
             FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             ArrowFileWriter writer = new ArrowFileWriter(root, null, channel)) {
            root.allocateNew();
            if (root.getVector("prompt") instanceof VarCharVector prompt) {
                prompt.setSafe(0, new Text("a"));
                prompt.setSafe(1, new Text("b"));
            }
            root.setRowCount(2);
            writer.start();
            writer.writeBatch();
            writer.end();
        }
    }

    @Test
    void textIdsKeepTheirKind() throws IOException {
        Path in = dir.resolve("in.arrow");
        writeColumns(in, Field.nullable("id", ArrowType.Utf8.INSTANCE),
                Field.nullable("prompt", ArrowType.Utf8.INSTANCE));
        try (InputSource source = InputSource.open(in)) {
            assertEquals(IdKind.UTF8, source.idKind());
        }
    }

    @Test
    void withoutAnIdColumnTheRowIndexIsTheIdAndPandasIndexColumnsAreSkipped() throws IOException {
        Path in = dir.resolve("in.arrow");
        writeColumns(in, Field.nullable("prompt", ArrowType.Utf8.INSTANCE),
                Field.nullable("__index_level_0__", ArrowType.Utf8.INSTANCE));
        RowParser parser = new RowParser(SamplingParams.builder().build(), 100);
        try (InputSource source = InputSource.open(in)) {
            assertEquals(IdKind.INT64, source.idKind());
            InputRow first = parser.parse(source.next());
            assertEquals("0", assertInstanceOf(InputRow.Spec.class, first).id().toString());
            assertEquals("1", parser.parse(source.next()).id().toString());
        }
    }

    @Test
    void unknownColumnsAndMissingPromptsAreRefusedUpFront() throws IOException {
        Path typo = dir.resolve("typo.arrow");
        writeColumns(typo, Field.nullable("prompt", ArrowType.Utf8.INSTANCE),
                Field.nullable("temprature", ArrowType.Utf8.INSTANCE));
        IOException e = assertThrows(IOException.class, () -> InputSource.open(typo));
        assertEquals(true, e.getMessage().startsWith("unknown column 'temprature'"), e.getMessage());

        Path noPrompt = dir.resolve("nothing.arrow");
        writeColumns(noPrompt, Field.nullable("id", ArrowType.Utf8.INSTANCE),
                Field.nullable("max_tokens", new ArrowType.Int(64, true)));
        IOException missing = assertThrows(IOException.class, () -> InputSource.open(noPrompt));
        assertEquals("no prompt column: expected one of prompt, prompt_token_ids, messages", missing.getMessage());

        Path notArrow = dir.resolve("rows.arrow");
        Files.writeString(notArrow, "{\"prompt\": \"a\"}\n");
        IOException bad = assertThrows(IOException.class, () -> InputSource.open(notArrow));
        assertEquals(true, bad.getMessage().startsWith("not an Arrow IPC file"), bad.getMessage());
    }
}
