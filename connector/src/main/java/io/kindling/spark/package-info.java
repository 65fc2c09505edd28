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
 *   <li>{@code onError}: {@code fail} (default: a row the engine cannot serve fails its task, naming the row) or
 *       {@code null}; {@code maxInFlight}: rows of one task waiting on the engine at once (default
 *       2 x {@code maxNumSeqs}).</li>
 * </ul>
 *
 * <p>Each row's sampler is seeded from {@code seed} (default 0) and the prompt, so outputs depend on neither
 * partitioning nor retries. Costs to know: like Python UDFs, calls are moved below the operator that holds them, so a
 * call in one branch of {@code CASE WHEN}/{@code coalesce} still runs for every row; and a range partitioning above
 * the calls ({@code ORDER BY}, {@code repartitionByRange}) samples its input in a job of its own, running them twice
 * unless the input is cached first.
 */
package io.kindling.spark;
