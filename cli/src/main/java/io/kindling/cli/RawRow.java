package io.kindling.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** One input row as read, before validation. {@code where} names it in messages ({@code line 3}, {@code row 2}). */
sealed interface RawRow {

    long index();

    String where();

    /** A row that could be read: a JSON value, which validation expects to be an object. */
    record Fields(long index, String where, JsonNode value) implements RawRow {
    }

    /** A row that could not be read at all (invalid JSON, a blank line). */
    record Unreadable(long index, String where, String problem) implements RawRow {
    }
}
