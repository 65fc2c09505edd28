package io.kindling.core;

import java.util.Arrays;

/** A growable {@code int} array: token ids and block tables without boxing. */
final class IntList {

    private int[] values;
    private int size;

    IntList(int initialCapacity) {
        values = new int[Math.max(initialCapacity, 4)];
    }

    /** A list holding a copy of {@code init}, with room for {@code capacity} elements before it grows. */
    static IntList of(int[] init, int capacity) {
        IntList list = new IntList(Math.max(capacity, init.length));
        System.arraycopy(init, 0, list.values, 0, init.length);
        list.size = init.length;
        return list;
    }

    int size() {
        return size;
    }

    int capacity() {
        return values.length;
    }

    int get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("index " + i + ", size " + size);
        }
        return values[i];
    }

    void add(int v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    void set(int i, int value) {
        get(i); // bounds check
        values[i] = value;
    }

    void clear() {
        size = 0;
    }

    /** A copy of elements {@code [from, to)}. */
    int[] copyOfRange(int from, int to) {
        if (from < 0 || to > size || from > to) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + to + "), size " + size);
        }
        return Arrays.copyOfRange(values, from, to);
    }

    /** Copies elements {@code [from, from + dst.length)} into {@code dst}. */
    void copyInto(int from, int[] dst) {
        if (from < 0 || from + dst.length > size) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + (from + dst.length) + "), size " + size);
        }
        System.arraycopy(values, from, dst, 0, dst.length);
    }

    /**
     * The array behind the list, without a copy: its first {@link #size} entries are the list. Replaced by a larger
     * one when the list grows past it; entries are overwritten in place by {@link #set}, and by {@link #add} after
     * {@link #clear}.
     */
    int[] backingArray() {
        return values;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
