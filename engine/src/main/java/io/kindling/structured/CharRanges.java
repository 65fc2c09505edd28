package io.kindling.structured;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A set of Unicode code points as sorted, disjoint ranges, and its UTF-8 byte language: how a character class
 * (a regex's {@code [^"]}, a JSON string's characters) becomes bytes, so tokens that split a multi-byte character
 * are allowed exactly when their bytes can still complete one.
 */
final class CharRanges {

    static final int MAX = 0x10FFFF;

    /** Pairs {@code [lo, hi]}, sorted and merged. */
    private final int[] ranges;

    private CharRanges(int[] ranges) {
        this.ranges = ranges;
    }

    static CharRanges of(int... pairs) {
        int n = pairs.length / 2;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(pairs[2 * a], pairs[2 * b]));
        List<int[]> merged = new ArrayList<>();
        for (int i : order) {
            int lo = pairs[2 * i];
            int hi = pairs[2 * i + 1];
            if (!merged.isEmpty() && lo <= merged.get(merged.size() - 1)[1] + 1) {
                int[] last = merged.get(merged.size() - 1);
                last[1] = Math.max(last[1], hi);
            } else {
                merged.add(new int[] {lo, hi});
            }
        }
        int[] flat = new int[merged.size() * 2];
        for (int i = 0; i < merged.size(); i++) {
            flat[2 * i] = merged.get(i)[0];
            flat[2 * i + 1] = merged.get(i)[1];
        }
        return new CharRanges(flat);
    }

    CharRanges union(CharRanges other) {
        int[] both = Arrays.copyOf(ranges, ranges.length + other.ranges.length);
        System.arraycopy(other.ranges, 0, both, ranges.length, other.ranges.length);
        return of(both);
    }

    CharRanges complement() {
        List<Integer> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                out.add(next);
                out.add(ranges[i] - 1);
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX) {
            out.add(next);
            out.add(MAX);
        }
        return of(out.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The one code point of a one-character set, or -1. */
    int singleCodePoint() {
        return ranges.length == 2 && ranges[0] == ranges[1] ? ranges[0] : -1;
    }

    /** The UTF-8 encodings of these code points (surrogates excluded: they have none). */
    Node toUtf8() {
        List<Node> options = new ArrayList<>();
        for (int i = 0; i < ranges.length; i += 2) {
            addUtf8(ranges[i], ranges[i + 1], options);
        }
        return options.size() == 1 ? options.get(0) : new Node.Alt(options);
    }

    /** Splits {@code [lo, hi]} until each piece is one sequence of byte ranges (as RE2 and Rust's regex do). */
    private static void addUtf8(int lo, int hi, List<Node> out) {
        if (lo > hi) {
            return;
        }
        if (lo <= 0xDFFF && hi >= 0xD800) { // surrogates are not characters
            addUtf8(lo, 0xD7FF, out);
            addUtf8(0xE000, hi, out);
            return;
        }
        for (int max : new int[] {0x7F, 0x7FF, 0xFFFF}) {
            if (lo <= max && max < hi) {
                addUtf8(lo, max, out);
                addUtf8(max + 1, hi, out);
                return;
            }
        }
        if (hi <= 0x7F) {
            out.add(Node.Bytes.range(lo, hi));
            return;
        }
        for (int i = 1; i < 4; i++) {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    addUtf8(lo, lo | m, out);
                    addUtf8((lo | m) + 1, hi, out);
                    return;
                }
                if ((hi & m) != m) {
                    addUtf8(lo, (hi & ~m) - 1, out);
                    addUtf8(hi & ~m, hi, out);
                    return;
                }
            }
        }
        byte[] a = new String(Character.toChars(lo)).getBytes(StandardCharsets.UTF_8);
        byte[] b = new String(Character.toChars(hi)).getBytes(StandardCharsets.UTF_8);
        List<Node> seq = new ArrayList<>(a.length);
        for (int i = 0; i < a.length; i++) {
            seq.add(Node.Bytes.range(a[i] & 0xFF, b[i] & 0xFF));
        }
        out.add(new Node.Seq(seq));
    }
}
