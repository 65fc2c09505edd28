/**
 * {@code llm_generate} in Spark SQL and DataFrames.
 *
 * <p>Set {@code spark.sql.extensions=io.kindling.spark.KindlingExtensions} and {@code spark.kindling.model}; then
 * {@code SELECT llm_generate(prompt) FROM t}, {@code llm_generate(prompt, map('maxTokens', '64', 'temperature', '0'))},
 * or {@link io.kindling.spark.functions#llm_generate(org.apache.spark.sql.Column)}.
 *
 * <p>Options, as session settings {@code spark.kindling.<name>} or keys of the call's map (which win; map keys may
 * also be snake_case, {@code max_tokens}). Checked at analysis: an unknown key or a bad value fails the query, naming
 * it.
 * <ul>
 *   <li>{@code model} (required): a local path or a Hadoop FileSystem URI; {@code device}: {@code auto} (default),
 *       {@code cpu}, {@code cuda} (the task's GPU) or {@code cuda:N}.</li>
 *   <li>Sampling, over the model's {@code generation_config.json}: {@code maxTokens}, {@code minTokens},
 *       {@code temperature}, {@code topP}, {@code topK}, {@code minP}, {@code seed}, {@code ignoreEos},
 *       {@code repetitionPenalty}, {@code presencePenalty}, {@code frequencyPenalty}, and {@code stop}: stop strings
 *       separated by commas (so a stop string cannot contain one).</li>
 *   <li>Several completions per row: {@code n} samples (sample {@code i} seeded with the row's seed + {@code i}), or
 *       beam search with {@code beamWidth} beams, {@code lengthPenalty} (a finished beam scores
 *       {@code cumulative_logprob / completion_tokens ^ lengthPenalty}, default 1) and {@code earlyStopping}
 *       ({@code true}, {@code false} (default) or {@code never}, as in transformers). Beam search returns
 *       {@code n} beams, all {@code beamWidth} of them unless {@code n} is set; it samples nothing, so
 *       {@code temperature > 0}, {@code topP < 1}, {@code topK > 0} or {@code minP > 0} with it fails at analysis,
 *       as do {@code stop}, {@code minTokens} and the penalties with it (the engine does not support them there),
 *       {@code lengthPenalty} or {@code earlyStopping} without it, and {@code n > beamWidth}.
 *       {@code llm_generate} returns the first completion as the engine orders them: the best beam, or sample 0.
 *       {@code llm_generate_struct} describes that one in its top-level fields and lists all of them, in the same
 *       order, in {@code choices: array<struct<text, finish_reason, cumulative_logprob, completion_tokens>>}
 *       ({@code cumulative_logprob} is null for samples); {@code choices} is null for a call with neither.</li>
 *   <li>Engine, one engine per executor and distinct set: {@code maxNumSeqs}, {@code maxNumBatchedTokens},
 *       {@code blockSize}, {@code kvCacheMemory} (a size: {@code 512m}, {@code 2g}), {@code threads} (default: the
 *       executor's cores), {@code gpuMemoryUtilization}.</li>
 *   <li>{@code onError}: {@code fail} (the default of {@code llm_generate}: a row the engine cannot serve fails
 *       the query, naming the row, and the stage is cancelled at once since a retry would meet the same row) or
 *       {@code null} (the default of {@code llm_generate_struct}, whose {@code error} field then holds the problem);
 *       {@code keyColumn}: a column of the call's input that names the row in error messages (else its position
 *       and the prompt's first 40 characters); {@code maxInFlight}: rows of one task waiting on the engine at once
 *       (default 2 x {@code maxNumSeqs}).</li>
 * </ul>
 *
 * <p>An empty prompt is the row's error, as in the CLI; a prompt of whitespace is a prompt; a null prompt gives null.
 * With no {@code kvCacheMemory} the CPU KV cache takes a quarter of the executor's heap less the weights (at most
 * 1 GiB). The model path is checked on the driver when the query is analysed, so a local path must be visible there
 * too.
 *
 * <p>Each row's sampler is seeded from {@code seed} (default 0) and the prompt, so outputs depend on neither
 * partitioning nor retries. Calls run once per row that reaches the output: they are moved above sorts, limits and
 * filters that do not read their results; one result used twice (a self-join) runs once behind a reused exchange;
 * where a sort reads the result it runs below, {@code EXPLAIN} says so, and a range partitioning gets an exchange
 * under it so its sampling pass does not run the model again. A cost to know: like Python UDFs, calls are moved below
 * the operator that holds them, so a call in one branch of {@code CASE WHEN}/{@code coalesce} still runs for every
 * row.
 */
package io.kindling.spark;
