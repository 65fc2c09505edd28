package io.kindling.spark;

import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import scala.jdk.javaapi.CollectionConverters;

/** Conversions between Java collections and the Scala 2.13 ones Catalyst's API takes. */
final class ScalaSeqs {

    private ScalaSeqs() {
    }

    static <T> scala.collection.immutable.Seq<T> seq(List<? extends T> list) {
        return CollectionConverters.<T>asScala(List.<T>copyOf(list)).toSeq();
    }

    @SuppressWarnings("unchecked")
    static AttributeSet attributeSet(scala.collection.Seq<? extends Attribute> attributes) {
        return AttributeSet.apply((scala.collection.Iterable<Expression>) (scala.collection.Iterable<?>) attributes);
    }

    @SuppressWarnings("unchecked")
    static <T> scala.collection.immutable.Seq<T> upcast(scala.collection.immutable.Seq<? extends T> seq) {
        return (scala.collection.immutable.Seq<T>) seq;
    }

    static <T> List<T> list(scala.collection.Seq<T> seq) {
        return CollectionConverters.asJava(seq);
    }
}
