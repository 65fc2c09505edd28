package io.kindling.structured;

import java.util.ArrayList;
import java.util.List;

/** The byte languages of JSON's pieces: whitespace, strings, numbers, integer ranges and any value of bounded depth. */
final class JsonGrammar {

    /** Most whitespace characters between two tokens: enough for a newline and some indentation, bounded. */
    static final int MAX_WHITESPACE = 8;
    /** How deep a value that the schema leaves open (any value, {@code json_object}) may nest. */
    static final int MAX_DEPTH = 3;

    static final Node WS = new Node.Repeat(CharRanges.of(' ', ' ', '\t', '\t', '\n', '\n', '\r', '\r').toUtf8(), 0,
            MAX_WHITESPACE);
    private static final Node DIGIT = Node.Bytes.range('0', '9');
    private static final Node HEX = CharRanges.of('0', '9', 'a', 'f', 'A', 'F').toUtf8();
    /**
     * One character of a string: any but the quote, the backslash and control characters, or an escape; a
     * {@code \}{@code u} escape never names a surrogate, so a character is one code point, as minLength counts.
     */
    static final Node CHAR = Node.alt(
            CharRanges.of(0, 0x1F, '"', '"', '\\', '\\').complement().toUtf8(),
            Node.seq(Node.literal("\\"), CharRanges.of('"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n',
                    'r', 'r', 't', 't').toUtf8()),
            Node.seq(Node.literal("\\u"), Node.alt(
                    Node.seq(CharRanges.of('0', '9', 'a', 'c', 'A', 'C', 'e', 'f', 'E', 'F').toUtf8(), HEX, HEX, HEX),
                    Node.seq(CharRanges.of('d', 'd', 'D', 'D').toUtf8(), Node.Bytes.range('0', '7'), HEX, HEX))));

    static final Node STRING = string(0, Node.UNBOUNDED);
    static final Node BOOLEAN = Node.alt(Node.literal("true"), Node.literal("false"));
    static final Node NULL = Node.literal("null");
    private static final Node FRACTION = Node.seq(Node.literal("."), new Node.Repeat(DIGIT, 1, Node.UNBOUNDED));
    private static final Node EXPONENT = Node.seq(CharRanges.of('e', 'e', 'E', 'E').toUtf8(),
            Node.optional(CharRanges.of('+', '+', '-', '-').toUtf8()), new Node.Repeat(DIGIT, 1, Node.UNBOUNDED));
    static final Node NUMBER = Node.seq(integer(null, null), Node.optional(FRACTION), Node.optional(EXPONENT));

    private JsonGrammar() {
    }

    static Node string(int minLength, int maxLength) {
        return Node.seq(Node.literal("\""), new Node.Repeat(CHAR, minLength, maxLength), Node.literal("\""));
    }

    /** A string whose content is {@code content} (characters that need no escaping). */
    static Node quoted(Node content) {
        return Node.seq(Node.literal("\""), content, Node.literal("\""));
    }

    /** Integers in {@code [lo, hi]}, either bound null for none, without leading zeros or "-0". */
    static Node integer(Long lo, Long hi) {
        List<Node> options = new ArrayList<>();
        if (hi == null || hi >= 0) {
            options.add(naturals(lo == null ? 0 : Math.max(lo, 0), hi));
        }
        if (lo == null || lo < 0) {
            long from = hi == null ? 1 : Math.max(1, -hi);
            options.add(Node.seq(Node.literal("-"), naturals(from, lo == null ? null : -lo)));
        }
        return options.size() == 1 ? options.get(0) : new Node.Alt(options);
    }

    /**
     * Numbers from {@code lo} to {@code hi} with integer bounds, either null for none, and at most
     * {@code fractionDigits} digits after the point ({@link Node#UNBOUNDED}: any): an integer part in range followed
     * by a fraction, except at the bound of largest magnitude (only zeros, or nothing where that bound is exclusive,
     * which it may be only when it lies away from zero: {@code lo < 0}, {@code hi > 0}); no exponent once bounded,
     * which could leave the range.
     */
    static Node boundedNumber(Long lo, boolean loExclusive, Long hi, boolean hiExclusive, int fractionDigits) {
        if (lo == null && hi == null && fractionDigits == Node.UNBOUNDED) {
            return NUMBER;
        }
        List<Node> options = new ArrayList<>();
        if (hi == null || hi >= 0) {
            long a = lo == null ? 0 : Math.max(lo, 0);
            options.add(withFraction(a, hi, hiExclusive, fractionDigits));
        }
        if (lo == null || lo < 0) {
            long c = hi == null ? 0 : Math.max(0, -hi);
            options.add(Node.seq(Node.literal("-"), withFraction(c, lo == null ? null : -lo, loExclusive,
                    fractionDigits)));
        }
        return options.size() == 1 ? options.get(0) : new Node.Alt(options);
    }

    /** Non-negative numbers from {@code a} to {@code b} (null: unbounded; {@code bExclusive}: below it). */
    private static Node withFraction(long a, Long b, boolean bExclusive, int fractionDigits) {
        if (fractionDigits == 0) {
            return naturals(a, b == null ? null : bExclusive ? b - 1 : b);
        }
        Node fraction = Node.optional(Node.seq(Node.literal("."), new Node.Repeat(DIGIT, 1, fractionDigits)));
        Node zeros = Node.optional(Node.seq(Node.literal("."), new Node.Repeat(Node.literal("0"), 1,
                fractionDigits)));
        if (b == null) {
            return Node.seq(naturals(a, null), fraction);
        }
        Node below = Node.seq(naturals(a, b - 1), fraction);
        if (bExclusive) {
            return below;
        }
        Node top = Node.seq(Node.literal(Long.toString(b)), zeros);
        return b > a ? Node.alt(below, top) : top;
    }

    /** Natural numbers in {@code [a, b]} (b null: unbounded) in decimal without leading zeros. */
    static Node naturals(long a, Long b) {
        if (b != null && b < a) {
            return Node.NOTHING;
        }
        List<Node> options = new ArrayList<>();
        int lenA = Long.toString(a).length();
        int lenB = b == null ? 19 : Long.toString(b).length();
        for (int len = lenA; len <= lenB; len++) {
            long lo = Math.max(a, len == 1 ? 0 : pow10(len - 1));
            long hi = b == null || len < lenB ? (len >= 19 ? Long.MAX_VALUE : pow10(len) - 1) : b;
            if (b == null && len == lenA + 1) {
                // every longer number: a nonzero digit, then at least len - 1 digits
                options.add(Node.seq(Node.Bytes.range('1', '9'), new Node.Repeat(DIGIT, len - 1, Node.UNBOUNDED)));
                break;
            }
            options.add(sameLength(Long.toString(lo), Long.toString(hi)));
        }
        return options.size() == 1 ? options.get(0) : new Node.Alt(options);
    }

    private static long pow10(int n) {
        long v = 1;
        for (int i = 0; i < n; i++) {
            v *= 10;
        }
        return v;
    }

    /** Decimal strings of one length between {@code x} and {@code y} inclusive. */
    private static Node sameLength(String x, String y) {
        if (x.isEmpty()) {
            return Node.EMPTY;
        }
        char x0 = x.charAt(0);
        char y0 = y.charAt(0);
        String xr = x.substring(1);
        String yr = y.substring(1);
        if (x0 == y0) {
            return Node.seq(Node.literal(String.valueOf(x0)), sameLength(xr, yr));
        }
        List<Node> options = new ArrayList<>();
        options.add(Node.seq(Node.literal(String.valueOf(x0)), sameLength(xr, "9".repeat(xr.length()))));
        if (y0 - x0 > 1) {
            options.add(Node.seq(Node.Bytes.range(x0 + 1, y0 - 1), new Node.Repeat(DIGIT, xr.length(), xr.length())));
        }
        options.add(Node.seq(Node.literal(String.valueOf(y0)), sameLength("0".repeat(yr.length()), yr)));
        return new Node.Alt(options);
    }

    /** Any JSON value nested at most {@code depth} deep (0: scalars only). */
    static Node anyValue(int depth) {
        Node scalar = Node.alt(STRING, NUMBER, BOOLEAN, NULL);
        if (depth == 0) {
            return scalar;
        }
        Node inner = anyValue(depth - 1);
        return Node.alt(scalar, anyObject(inner), array(inner, 0, Node.UNBOUNDED));
    }

    /** An object with any keys whose values are {@code value}. */
    static Node anyObject(Node value) {
        Node member = Node.seq(STRING, WS, Node.literal(":"), WS, value);
        Node members = Node.seq(member, new Node.Repeat(Node.seq(WS, Node.literal(","), WS, member), 0,
                Node.UNBOUNDED));
        return Node.seq(Node.literal("{"), WS, Node.optional(members), WS, Node.literal("}"));
    }

    static Node array(Node item, int minItems, int maxItems) {
        if (maxItems == 0) {
            return Node.seq(Node.literal("["), WS, Node.literal("]"));
        }
        Node rest = new Node.Repeat(Node.seq(WS, Node.literal(","), WS, item), Math.max(0, minItems - 1),
                maxItems == Node.UNBOUNDED ? Node.UNBOUNDED : maxItems - 1);
        Node items = Node.seq(item, rest);
        return Node.seq(Node.literal("["), WS, minItems == 0 ? Node.optional(items) : items, WS, Node.literal("]"));
    }
}
