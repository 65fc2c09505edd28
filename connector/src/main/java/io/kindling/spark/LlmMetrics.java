package io.kindling.spark;

import java.io.Serializable;
import org.apache.spark.sql.execution.metric.SQLMetric;

/** The SQL metrics of {@link LlmEvalExec}, as the tasks update them. */
record LlmMetrics(SQLMetric outputRows, SQLMetric requests, SQLMetric promptTokens, SQLMetric generatedTokens,
                  SQLMetric engineWaitNanos, SQLMetric preemptions) implements Serializable {

    static final String OUTPUT_ROWS = "numOutputRows";
    static final String REQUESTS = "numRequests";
    static final String PROMPT_TOKENS = "promptTokens";
    static final String GENERATED_TOKENS = "generatedTokens";
    static final String ENGINE_WAIT = "engineWaitTime";
    static final String PREEMPTIONS = "numPreemptions";

    LlmMetrics(scala.collection.immutable.Map<String, SQLMetric> byName) {
        this(byName.apply(OUTPUT_ROWS), byName.apply(REQUESTS), byName.apply(PROMPT_TOKENS),
                byName.apply(GENERATED_TOKENS), byName.apply(ENGINE_WAIT), byName.apply(PREEMPTIONS));
    }
}
