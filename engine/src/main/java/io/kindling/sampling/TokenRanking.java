package io.kindling.sampling;

import java.util.Arrays;

/**
 * Orders tokens best first (higher logit, then lower token id) by packing both into one {@code long} key, so that
 * candidate lists are plain {@code long[]} that {@link Arrays#sort(long[], int, int)} and a quickselect can order
 * without boxing. Smaller key = better token.
 */
public final class TokenRanking {

    private TokenRanking() {
    }

    public static long key(float logit, int tokenId) {
        // + 0.0f turns -0.0 into 0.0: they compare equal as floats, so they must tie here too.
        int bits = Float.floatToIntBits(logit + 0.0f);
        int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // signed int order == float order
        return ((long) ~ascending << 32) | tokenId;
    }

    public static int tokenId(long key) {
        return (int) key;
    }

    /**
     * Rearranges {@code keys[from, to)} so that its {@code count} best keys occupy {@code keys[from, from + count)},
     * in no particular order. Expected linear time; falls back to a sort if the partitions keep coming out lopsided.
     */
    public static void selectBest(long[] keys, int from, int to, int count) {
        if (count <= 0 || count >= to - from) {
            return;
        }
        int nth = from + count - 1;
        int lo = from;
        int hi = to - 1;
        int budget = 2 * (32 - Integer.numberOfLeadingZeros(to - from)) + 8;
        while (hi > lo) {
            if (budget-- == 0) {
                Arrays.sort(keys, lo, hi + 1);
                return;
            }
            int pivot = partition(keys, lo, hi);
            if (pivot == nth) {
                return;
            }
            if (pivot < nth) {
                lo = pivot + 1;
            } else {
                hi = pivot - 1;
            }
        }
    }

    /** Lomuto partition around the median of first, middle and last; returns the pivot's final index. */
    private static int partition(long[] keys, int lo, int hi) {
        int mid = (lo + hi) >>> 1;
        long a = keys[lo];
        long b = keys[mid];
        long c = keys[hi];
        int median = a < b ? (b < c ? mid : (a < c ? hi : lo)) : (a < c ? lo : (b < c ? hi : mid));
        swap(keys, median, hi);
        long pivot = keys[hi];
        int store = lo;
        for (int i = lo; i < hi; i++) {
            if (keys[i] < pivot) {
                swap(keys, i, store++);
            }
        }
        swap(keys, store, hi);
        return store;
    }

    private static void swap(long[] keys, int i, int j) {
        long t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }
}
