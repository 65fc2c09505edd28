package io.kindling.spark;

import java.io.Serializable;
import org.apache.spark.sql.execution.metric.SQLMetric;

/**
 * The SQL metrics of {@link LlmEvalExec}, as the tasks update them. The engine's counters (preemptions, KV blocks,
 * steps and the sequences they ran, whose ratio is the engine's mean batch) count once per engine, summed over the
 * executors' engines ({@link EngineUsage}).
 */
record LlmMetrics(SQLMetric outputRows, SQLMetric requests, SQLMetric promptTokens, SQLMetric generatedTokens,
                  SQLMetric engineWaitNanos, SQLMetric errorRows, SQLMetric nullPrompts, SQLMetric preemptions,
                  SQLMetric kvPeakBlocks, SQLMetric kvBlocks, SQLMetric engineSteps, SQLMetric scheduledSeqs)
        implements Serializable {

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
    static final String ENGINE_STEPS = "engineSteps";
    static final String SCHEDULED_SEQS = "engineScheduledSeqs";

    LlmMetrics(scala.collection.immutable.Map<String, SQLMetric> byName) {
        this(byName.apply(OUTPUT_ROWS), byName.apply(REQUESTS), byName.apply(PROMPT_TOKENS),
                byName.apply(GENERATED_TOKENS), byName.apply(ENGINE_WAIT), byName.apply(ERROR_ROWS),
                byName.apply(NULL_PROMPTS), byName.apply(PREEMPTIONS), byName.apply(KV_PEAK_BLOCKS),
                byName.apply(KV_BLOCKS), byName.apply(ENGINE_STEPS), byName.apply(SCHEDULED_SEQS));
    }
}
