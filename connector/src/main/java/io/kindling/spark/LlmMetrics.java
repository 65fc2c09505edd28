package io.kindling.spark;

import java.io.Serializable;
import org.apache.spark.sql.execution.metric.SQLMetric;

/**
 * The SQL metrics of {@link LlmEvalExec}, as the tasks update them. The engine's counters (preemptions, KV blocks)
 * count once per engine, summed over the executors' engines ({@link EngineUsage}).
 */
record LlmMetrics(SQLMetric outputRows, SQLMetric requests, SQLMetric promptTokens, SQLMetric generatedTokens,
                  SQLMetric engineWaitNanos, SQLMetric errorRows, SQLMetric nullPrompts, SQLMetric preemptions,
                  SQLMetric kvPeakBlocks, SQLMetric kvBlocks) implements Serializable {

    static final String OUTPUT_ROWS = "numOutputRows";
    static final String REQUESTS = "numRequests";
    static final String PROMPT_TOKENS = "promptTokens";
    static final String GENERATED_TOKENS = "generatedTokens";
    static final String ENGINE_WAIT = "engineWaitTime";
    static final String ERROR_ROWS = "numErrorRows";
    static final String NULL_PROMPTS = "numNullPrompts";
    static final String PREEMPTIONS = "numPreemptions";
    static final String KV_PEAK_BLOCKS = "kvCachePeakBlocks";
    static final String KV_BLOCKS = "kvCacheBlocks";

    LlmMetrics(scala.collection.immutable.Map<String, SQLMetric> byName) {
        this(byName.apply(OUTPUT_ROWS), byName.apply(REQUESTS), byName.apply(PROMPT_TOKENS),
                byName.apply(GENERATED_TOKENS), byName.apply(ENGINE_WAIT), byName.apply(ERROR_ROWS),
                byName.apply(NULL_PROMPTS), byName.apply(PREEMPTIONS), byName.apply(KV_PEAK_BLOCKS),
                byName.apply(KV_BLOCKS));
    }
}
