package io.kindling.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the part of {@code java.util.regex} syntax that describes a regular language: literals, {@code .}, classes
 * ({@code [a-z]}, {@code [^"]}, {@code \d \w \s} and their negations), groups ({@code (...)}, {@code (?:...)}),
 * alternation and the quantifiers {@code * + ? {m} {m,} {m,n}} (lazy ones match the same strings). The pattern
 * matches the whole output, so {@code ^} at its start and {@code $} at its end are accepted and mean nothing more.
 * Anything else (look-around, back-references, word boundaries, flags, possessive quantifiers, Unicode properties)
 * is an error that names it.
 */
final class RegexParser {

    private static final String KIND = "regex";
    /** What {@code .} does not match by default in Java: the line terminators. */
    private static final CharRanges LINE_TERMINATORS = CharRanges.of('\n', '\n', '\r', '\r', 0x85, 0x85,
            0x2028, 0x2029);
    private static final CharRanges DIGIT = CharRanges.of('0', '9');
    private static final CharRanges WORD = CharRanges.of('a', 'z', 'A', 'Z', '0', '9', '_', '_');
    private static final CharRanges SPACE = CharRanges.of(' ', ' ', '\t', '\r', 0x0B, 0x0C);

    private final int[] cps;
    private int pos;

    private RegexParser(String pattern) {
        this.cps = pattern.codePoints().toArray();
    }

    static Node parse(String pattern) {
        RegexParser p = new RegexParser(pattern);
        if (p.peek('^')) {
            p.pos++;
        }
        Node node = p.alternation();
        if (p.pos < p.cps.length) {
            throw p.error("unbalanced ')'");
        }
        return node;
    }

    private Node alternation() {
        List<Node> options = new ArrayList<>();
        options.add(concatenation());
        while (peek('|')) {
            pos++;
            options.add(concatenation());
        }
        return options.size() == 1 ? options.get(0) : new Node.Alt(options);
    }

    private Node concatenation() {
        List<Node> items = new ArrayList<>();
        while (pos < cps.length && !peek('|') && !peek(')')) {
            if (peek('$') && pos == cps.length - 1) {
                pos++;
                break;
            }
            items.add(quantified(atom()));
        }
        return items.size() == 1 ? items.get(0) : new Node.Seq(items);
    }

    private Node quantified(Node atom) {
        Node node = atom;
        while (pos < cps.length) {
            int c = cps[pos];
            int min;
            int max;
            if (c == '*' || c == '+' || c == '?') {
                pos++;
                min = c == '+' ? 1 : 0;
                max = c == '?' ? 1 : Node.UNBOUNDED;
            } else if (c == '{' && pos + 1 < cps.length && Character.isDigit(cps[pos + 1])) {
                pos++;
                min = number();
                max = min;
                if (peek(',')) {
                    pos++;
                    max = peek('}') ? Node.UNBOUNDED : number();
                }
                expect('}');
                if (max != Node.UNBOUNDED && max < min) {
                    throw error("repetition {" + min + "," + max + "} has max below min");
                }
            } else {
                return node;
            }
            if (peek('?')) {
                pos++; // lazy: the same set of strings
            } else if (peek('+')) {
                throw error("possessive quantifiers are not supported");
            }
            node = new Node.Repeat(node, min, max);
        }
        return node;
    }

    private Node atom() {
        int c = cps[pos++];
        switch (c) {
            case '(':
                if (peek('?')) {
                    if (pos + 1 < cps.length && cps[pos + 1] == ':') {
                        pos += 2;
                    } else {
                        throw error("group constructs (?...) other than (?:...) are not supported "
                                + "(look-around, flags, named groups)");
                    }
                }
                Node inner = alternation();
                expect(')');
                return inner;
            case '[':
                return charClass().toUtf8();
            case '.':
                return LINE_TERMINATORS.complement().toUtf8();
            case '\\':
                return escape().toUtf8();
            case '*', '+', '?', '{':
                throw error("quantifier '" + Character.toString(c) + "' has nothing to repeat");
            case '^', '$':
                throw error("anchors are only supported at the start (^) and end ($) of the pattern");
            default:
                return CharRanges.of(c, c).toUtf8();
        }
    }

    private CharRanges charClass() {
        boolean negated = peek('^');
        if (negated) {
            pos++;
        }
        if (peek(']')) {
            throw error("empty character class");
        }
        CharRanges set = CharRanges.of();
        while (!peek(']')) {
            if (pos >= cps.length) {
                throw error("unclosed character class");
            }
            if (peek('[') || (peek('&') && pos + 1 < cps.length && cps[pos + 1] == '&')) {
                throw error("nested classes and intersections (&&) are not supported");
            }
            CharRanges item;
            int lo;
            if (peek('\\')) {
                pos++;
                item = escape();
                lo = item.singleCodePoint();
            } else {
                lo = cps[pos++];
                item = CharRanges.of(lo, lo);
            }
            if (lo >= 0 && peek('-') && pos + 1 < cps.length && cps[pos + 1] != ']') {
                pos++;
                int hi;
                if (peek('\\')) {
                    pos++;
                    hi = escape().singleCodePoint();
                    if (hi < 0) {
                        throw error("a range cannot end in a class escape");
                    }
                } else {
                    hi = cps[pos++];
                }
                if (hi < lo) {
                    throw error("range " + Character.toString(lo) + "-" + Character.toString(hi) + " is backwards");
                }
                item = CharRanges.of(lo, hi);
            }
            set = set.union(item);
        }
        pos++;
        return negated ? set.complement() : set;
    }

    private CharRanges escape() {
        if (pos >= cps.length) {
            throw error("pattern ends in a lone backslash");
        }
        int c = cps[pos++];
        switch (c) {
            case 'd': return DIGIT;
            case 'D': return DIGIT.complement();
            case 'w': return WORD;
            case 'W': return WORD.complement();
            case 's': return SPACE;
            case 'S': return SPACE.complement();
            case 't': return one('\t');
            case 'n': return one('\n');
            case 'r': return one('\r');
            case 'f': return one('\f');
            case 'e': return one(0x1B);
            case 'a': return one(0x07);
            case 'x': return one(hex(2));
            case 'u': return one(hex(4));
            default:
                if (Character.isLetterOrDigit(c)) {
                    throw error("escape \\" + Character.toString(c) + " is not supported"
                            + (c == 'b' || c == 'B' ? " (word boundaries)" : Character.isDigit(c)
                            ? " (back-references)" : c == 'p' || c == 'P' ? " (Unicode properties)" : ""));
                }
                return one(c);
        }
    }

    private static CharRanges one(int c) {
        return CharRanges.of(c, c);
    }

    private int hex(int digits) {
        if (pos + digits > cps.length) {
            throw error("truncated hex escape");
        }
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(cps[pos++], 16);
            if (d < 0) {
                throw error("bad hex digit in escape");
            }
            v = v * 16 + d;
        }
        return v;
    }

    private int number() {
        int start = pos;
        long v = 0;
        while (pos < cps.length && Character.isDigit(cps[pos])) {
            v = v * 10 + (cps[pos++] - '0');
            if (v > 10_000) {
                throw error("repetition counts above 10000 are not supported");
            }
        }
        if (pos == start) {
            throw error("expected a number in {m,n}");
        }
        return (int) v;
    }

    private boolean peek(int c) {
        return pos < cps.length && cps[pos] == c;
    }

    private void expect(int c) {
        if (!peek(c)) {
            throw error("expected '" + Character.toString(c) + "'");
        }
        pos++;
    }

    private StructuredOutputException error(String problem) {
        return new StructuredOutputException(KIND, problem + " at index " + Math.min(pos, cps.length));
    }
}
