package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlInputTest {

    @TempDir
    Path dir;

    @Test
    void everyLineIsARowBlankAndMalformedOnesIncluded() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"id\": 1.10, \"prompt\": \"a\"}\n\n{\"prompt\": \"b\",}\r\n{\"prompt\": \"c\"} x\n"
                + "{\"prompt\": \"d\", \"prompt\": \"e\"}\n{\"prompt\": \"héllo\"}");
        try (InputSource source = InputSource.open(in)) {
            assertEquals(OptionalLong.of(6), source.rowCount());
            assertEquals(IdKind.UTF8, source.idKind());

            RawRow.Fields first = assertInstanceOf(RawRow.Fields.class, source.next());
            assertEquals(0, first.index());
            assertEquals("line 1", first.where());
            assertEquals("{\"id\":1.10,\"prompt\":\"a\"}", first.value().toString());

            RawRow.Unreadable blank = assertInstanceOf(RawRow.Unreadable.class, source.next());
            assertEquals("line 2", blank.where());
            assertEquals("empty line", blank.problem());

            RawRow.Unreadable trailingComma = assertInstanceOf(RawRow.Unreadable.class, source.next());
            assertEquals("line 3", trailingComma.where());
            assertEquals(true, trailingComma.problem().startsWith("invalid JSON at column 16: Unexpected character"),
                    trailingComma.problem());

            RawRow.Unreadable trailingText = assertInstanceOf(RawRow.Unreadable.class, source.next());
            // Jackson 2.21 reports the column where the token starts (17), 2.20 where it ends (18).
            assertEquals(true, trailingText.problem().matches("invalid JSON at column 1[78]: Unrecognized token 'x'.*"),
                    trailingText.problem());

            RawRow.Unreadable duplicate = assertInstanceOf(RawRow.Unreadable.class, source.next());
            assertEquals(true, duplicate.problem().contains("Duplicate field 'prompt'"), duplicate.problem());

            RawRow.Fields last = assertInstanceOf(RawRow.Fields.class, source.next());
            assertEquals(5, last.index());
            assertEquals("héllo", last.value().get("prompt").textValue());
            assertFalse(source.hasNext());
        }
    }

    @Test
    void countsLinesAsReadLineSplitsThem() throws IOException {
        Path f = dir.resolve("f.jsonl");
        Files.writeString(f, "");
        assertEquals(0, JsonlInput.countLines(f));
        Files.writeString(f, "a\nb\n");
        assertEquals(2, JsonlInput.countLines(f));
        Files.writeString(f, "a\nb");
        assertEquals(2, JsonlInput.countLines(f));
        Files.writeString(f, "a\n\n");
        assertEquals(2, JsonlInput.countLines(f));
    }
}
