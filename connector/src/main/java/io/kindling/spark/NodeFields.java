package io.kindling.spark;

import java.util.Arrays;
import java.util.List;

/**
 * The constructor arguments of a Catalyst node written in Java, in order: what a Scala case class derives from its
 * parameter list (the {@code Product} methods, {@code equals}, {@code hashCode}), given once per node. Catalyst
 * reads {@code productElement} to copy, transform and print a node, so the order is the constructor's.
 */
record NodeFields(List<Object> values) {

    static NodeFields of(Object... values) {
        return new NodeFields(Arrays.asList(values));
    }

    int arity() {
        return values.size();
    }

    Object element(int n) {
        if (n < 0 || n >= values.size()) {
            throw new IndexOutOfBoundsException(n);
        }
        return values.get(n);
    }
}
