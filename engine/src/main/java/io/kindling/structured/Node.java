package io.kindling.structured;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A regular language over bytes, the form every constraint compiles to before it becomes an automaton. JSON schemas
 * are regular here because nesting and recursion are bounded when they are compiled.
 */
sealed interface Node {

    /** {@link Repeat}'s max for "no upper bound". */
    int UNBOUNDED = -1;

    /** One byte out of a set of 256 (bit {@code b} of {@code bits[b >> 6]}). */
    record Bytes(long[] bits) implements Node {
        static Bytes range(int from, int to) {
            long[] bits = new long[4];
            for (int b = from; b <= to; b++) {
                bits[b >> 6] |= 1L << (b & 63);
            }
            return new Bytes(bits);
        }

        boolean contains(int b) {
            return (bits[b >> 6] & (1L << (b & 63))) != 0;
        }
    }

    record Seq(List<Node> items) implements Node {
    }

    /** Any one of the options; no options is the empty language. */
    record Alt(List<Node> options) implements Node {
    }

    /** {@code min} to {@code max} repetitions ({@link #UNBOUNDED}: no upper bound). */
    record Repeat(Node node, int min, int max) implements Node {
    }

    /**
     * An object's members in their declared order, each present or (when optional) not, joined by {@code separator}:
     * built as an automaton directly, because spelling out the comma placements as alternatives grows as 2^optional.
     */
    record Members(List<Node> members, List<Boolean> required, Node separator) implements Node {
    }

    Node EMPTY = new Seq(List.of());
    Node NOTHING = new Alt(List.of());

    static Node literal(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<Node> items = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            items.add(Bytes.range(b & 0xFF, b & 0xFF));
        }
        return items.size() == 1 ? items.get(0) : new Seq(items);
    }

    static Node seq(Node... items) {
        return new Seq(List.of(items));
    }

    static Node alt(Node... options) {
        return options.length == 1 ? options[0] : new Alt(List.of(options));
    }

    static Node optional(Node node) {
        return new Repeat(node, 0, 1);
    }
}
