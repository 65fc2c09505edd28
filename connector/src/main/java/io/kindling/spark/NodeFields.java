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

    /**
     * A node's {@code Product} methods from its {@link #fields()}. {@code TreeNode.hashCode} already hashes the
     * product; {@code equals}, which an interface cannot give, each node writes as a comparison of its fields.
     */
    interface Node extends scala.Product {

        /** The constructor's arguments, in its order. */
        NodeFields fields();

        @Override
        default int productArity() {
            return fields().values().size();
        }

        @Override
        default Object productElement(int n) {
            return fields().values().get(java.util.Objects.checkIndex(n, productArity()));
        }

        @Override
        default boolean canEqual(Object other) {
            return getClass().isInstance(other);
        }
    }
}
