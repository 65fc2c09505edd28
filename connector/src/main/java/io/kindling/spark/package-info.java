/**
 * {@code llm_generate} in Spark SQL and DataFrames.
 *
 * <p>Set {@code spark.sql.extensions=io.kindling.spark.KindlingExtensions} and {@code spark.kindling.model}; then
 * {@code SELECT llm_generate(prompt) FROM t}, {@code llm_generate(prompt, map('maxTokens', '64', 'temperature', '0'))},
 * or {@link io.kindling.spark.functions#llm_generate(org.apache.spark.sql.Column)}.
 *
 * <p>Extraction: {@code llm_extract(prompt, 'name STRING, price DECIMAL(10,2), tags ARRAY<STRING>'[, options])} (or
 * {@link io.kindling.spark.functions#llm_extract(org.apache.spark.sql.Column, org.apache.spark.sql.types.StructType)})
 * returns that struct: the JSON schema derived from the type constrains the generation ({@code NOT NULL} fields
 * required, nullable ones optional, arrays, nested structs, decimals with their scale, dates; a string field's
 * {@code enum} metadata lists its values), and {@code from_json} parses every row. {@code responseFormat},
 * {@code guidedRegex} and {@code guidedChoice} constrain {@code llm_generate}'s text the same way.
 *
 * <p>Options, as session settings {@code spark.kindling.<name>} or keys of the call's map (which win; map keys may
 * also be snake_case, {@code max_tokens}). Checked at analysis: an unknown key or a bad value fails the query, naming
 * it. They are the Spark spellings of the catalogue, {@link io.kindling.options.Option}:
 * <!-- options table: rendered by io.kindling.options.OptionTables.sparkJavadoc(), checked by SparkOptionCatalogueTest -->
 * <table>
 *   <caption>Options of llm_generate</caption>
 *   <tr><th>option</th><th>default</th><th>valid</th><th>what it does</th></tr>
 *   <tr><td>{@code model}</td><td>required</td><td>{@code text}</td><td>Hugging Face checkpoint directory; in Spark also a Hadoop FileSystem URI (hdfs:, s3a:).</td></tr>
 *   <tr><td>{@code device}</td><td>auto</td><td>{@code auto, cpu, cuda, cuda:N or cuda:N,M,...}</td><td>auto, cpu, cuda, cuda:N, or cuda:N,M,... (one GPU a tensor-parallel rank); in Spark cuda is the task's GPU.</td></tr>
 *   <tr><td>{@code maxTokens}</td><td>16, or the model's generation_config.json</td><td>{@code >= 1}</td><td>Most tokens to generate per row.</td></tr>
 *   <tr><td>{@code minTokens}</td><td>0</td><td>{@code >= 0}</td><td>Fewest tokens to generate before a stop may end the row.</td></tr>
 *   <tr><td>{@code temperature}</td><td>1, or the model's generation_config.json</td><td>{@code >= 0}</td><td>0 is greedy.</td></tr>
 *   <tr><td>{@code topP}</td><td>1</td><td>{@code (0, 1]}</td><td>Nucleus sampling mass.</td></tr>
 *   <tr><td>{@code topK}</td><td>0 (all)</td><td>{@code >= -1}</td><td>Sample among the K most likely tokens; 0 or -1: all.</td></tr>
 *   <tr><td>{@code minP}</td><td>0</td><td>{@code [0, 1]}</td><td>Drop tokens below this share of the top probability.</td></tr>
 *   <tr><td>{@code seed}</td><td>none; in Spark 0 (mixed with the prompt)</td><td>{@code any integer}</td><td>Seed of each row's own generator.</td></tr>
 *   <tr><td>{@code stop}</td><td>none</td><td>{@code strings}</td><td>Strings that end the row (not returned); in Spark comma-separated.</td></tr>
 *   <tr><td>{@code stopTokenIds}</td><td>none</td><td>{@code integers}</td><td>Token ids that end the row (returned); in Spark comma-separated.</td></tr>
 *   <tr><td>{@code ignoreEos}</td><td>false</td><td>{@code true or false}</td><td>Keep generating past the end-of-sequence token.</td></tr>
 *   <tr><td>{@code n}</td><td>1; with beam search, beam_width</td><td>{@code >= 1}</td><td>Completions per row: samples, or the best beams.</td></tr>
 *   <tr><td>{@code repetitionPenalty}</td><td>1</td><td>{@code > 0}</td><td>Divide the logits of tokens already seen.</td></tr>
 *   <tr><td>{@code presencePenalty}</td><td>0</td><td>{@code [-2, 2]}</td><td>Subtract from tokens already generated.</td></tr>
 *   <tr><td>{@code frequencyPenalty}</td><td>0</td><td>{@code [-2, 2]}</td><td>Subtract, per occurrence, from tokens already generated.</td></tr>
 *   <tr><td>{@code beamWidth}</td><td>0 (no beam search)</td><td>{@code >= 0}</td><td>Beams of a beam search.</td></tr>
 *   <tr><td>{@code lengthPenalty}</td><td>1</td><td>{@code any number}</td><td>A finished beam scores cumulative_logprob / completion_tokens ^ length_penalty.</td></tr>
 *   <tr><td>{@code earlyStopping}</td><td>false</td><td>{@code true, false or never}</td><td>When beam search stops, as in transformers.</td></tr>
 *   <tr><td>{@code responseFormat}</td><td>none</td><td>{@code text}</td><td>The output is JSON of this schema: {"type": "json_schema", "json_schema": {"schema": ...}} or {"type": "json_object"} as OpenAI spells it, or the JSON schema itself; in Spark as text.</td></tr>
 *   <tr><td>{@code guidedRegex}</td><td>none</td><td>{@code text}</td><td>The output fully matches this regular expression (java.util.regex syntax without look-around or back-references).</td></tr>
 *   <tr><td>{@code guidedChoice}</td><td>none</td><td>{@code strings}</td><td>The output is exactly one of these strings; in Spark a JSON list.</td></tr>
 *   <tr><td>{@code maxNumSeqs}</td><td>auto: 256, 1024 on a GPU of 70 GiB or more</td><td>{@code positive}</td><td>Most sequences in one step.</td></tr>
 *   <tr><td>{@code maxNumBatchedTokens}</td><td>auto: 2048 on the CPU, 8192 on a GPU, 16384 on one of 70 GiB or more</td><td>{@code positive}</td><td>Token budget of one step; longer prompts are prefilled in chunks.</td></tr>
 *   <tr><td>{@code blockSize}</td><td>16</td><td>{@code positive}</td><td>Tokens per KV cache block.</td></tr>
 *   <tr><td>{@code kvCacheMemory}</td><td>auto</td><td>{@code a size > 0}</td><td>KV cache budget (512m, 2g); auto: on the CPU a quarter of the heap less the weights, at most 1g, on a GPU what gpu_memory_utilization leaves.</td></tr>
 *   <tr><td>{@code gpuMemoryUtilization}</td><td>0.9</td><td>{@code (0, 1]}</td><td>Share of the GPU's memory for weights, activations and KV cache.</td></tr>
 *   <tr><td>{@code threads}</td><td>all cores; in Spark the executor's cores</td><td>{@code positive}</td><td>CPU backend threads.</td></tr>
 *   <tr><td>{@code enablePrefixCaching}</td><td>true</td><td>{@code true or false}</td><td>Share the KV blocks of common prompt prefixes.</td></tr>
 *   <tr><td>{@code tensorParallelSize}</td><td>1</td><td>{@code positive}</td><td>Ranks one engine splits the model over (Megatron-style, by heads, MLP features and vocabulary); it must divide num_attention_heads, num_key_value_heads and intermediate_size. On CUDA one GPU a rank: cuda takes the first N (in Spark the task's).</td></tr>
 *   <tr><td>{@code onError}</td><td>fail; null for llm_generate_struct</td><td>{@code fail or null}</td><td>What a row the engine cannot serve becomes: a failed task, or null.</td></tr>
 *   <tr><td>{@code keyColumn}</td><td>none: the row's position and first 40 characters</td><td>{@code text}</td><td>The input column that names a row in error messages.</td></tr>
 *   <tr><td>{@code maxInFlight}</td><td>2 x the engine's max_num_seqs (512 on the CPU, 2,048 on a large GPU)</td><td>{@code positive}</td><td>Rows of one task waiting on the engine at once.</td></tr>
 * </table>
 * <!-- end of options table -->
 *
 * <p>What they mean together:
 * <ul>
 *   <li>{@code model} (required): a local path or a Hadoop FileSystem URI; {@code device}: {@code auto} (default),
 *       {@code cpu}, {@code cuda} (the task's GPU) or {@code cuda:N}.</li>
 *   <li>Sampling, over the model's {@code generation_config.json}: {@code maxTokens}, {@code minTokens},
 *       {@code temperature}, {@code topP}, {@code topK}, {@code minP}, {@code seed}, {@code ignoreEos},
 *       {@code repetitionPenalty}, {@code presencePenalty}, {@code frequencyPenalty}, {@code stopTokenIds} (separated by
 *       commas), and {@code stop}: stop strings separated by commas (so a stop string cannot contain one).</li>
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
 *       {@code blockSize}, {@code kvCacheMemory} (a size: {@code 512m}, {@code 2g}), {@code enablePrefixCaching},
 *       {@code threads} (default: the executor's cores), {@code gpuMemoryUtilization}, {@code tensorParallelSize}
 *       (ranks the engine splits the model over; the CPU backend only for now).</li>
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
