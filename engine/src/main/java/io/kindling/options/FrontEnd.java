package io.kindling.options;

/** Where a user can set an option, each with its own spelling of the option's snake name. */
public enum FrontEnd {
    /** A field of an input row (JSONL object or Arrow column): {@code max_tokens}. */
    ROW,
    /** A flag of {@code bin/kindling generate}: {@code --max-tokens}. */
    CLI,
    /** A session setting {@code spark.kindling.maxTokens} or a key of {@code llm_generate}'s map. */
    SPARK,
    /** An option of the Flink connector's model or function: {@code max-tokens}. */
    FLINK
}
