package io.kindling.spark;

import org.apache.spark.QueryContext;
import org.apache.spark.sql.AnalysisException;
import scala.Option;

/** The analysis errors of {@code llm_generate}: plain messages, as Spark has no error class for them. */
final class LlmErrors {

    private LlmErrors() {
    }

    /**
     * Throws an {@link AnalysisException}. It is a checked exception to Java but not to Scala, and Spark's function
     * builders and check rules (Scala functions) throw it; the declared return type only lets callers write
     * {@code throw LlmErrors.analysis(...)}.
     */
    static RuntimeException analysis(String message) {
        throw LlmErrors.<RuntimeException>unchecked(new AnalysisException(message, Option.empty(), Option.empty(),
                Option.empty(), Option.empty(), scala.collection.immutable.Map$.MODULE$.<String, String>empty(),
                new QueryContext[0]));
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E unchecked(Throwable t) throws E {
        throw (E) t;
    }
}
