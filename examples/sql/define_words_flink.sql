-- Defines the sample words with the bundled model, in Flink SQL: ML_PREDICT over a kindling model.
-- Run from the repository root, on a local MiniCluster:
--   bin/kindling flink --model examples/models/kindling-define-6m --sql examples/sql/define_words_flink.sql
-- or in Flink's SQL client, with flink/target/kindling-flink-0.1.0-SNAPSHOT-shaded.jar in lib/ (or ADD JAR).

-- Many rows of a subtask in the engine at once (Flink's default is 10), and time for each to wait its turn.
SET 'table.exec.async-ml-predict.max-concurrent-operations' = '512';
SET 'table.exec.async-ml-predict.timeout' = '10 min';

CREATE TEMPORARY TABLE words (id STRING, prompt STRING)
WITH ('connector' = 'filesystem', 'path' = 'examples/data/words.jsonl', 'format' = 'json');

CREATE TEMPORARY MODEL definer
INPUT (prompt STRING)
OUTPUT (definition STRING, error STRING)
WITH ('provider' = 'kindling', 'model' = 'examples/models/kindling-define-6m', 'max-tokens' = '48',
      'temperature' = '0');

CREATE TEMPORARY TABLE definitions (id STRING, definition STRING, error STRING)
WITH ('connector' = 'filesystem', 'path' = '/tmp/kindling-define-words-flink', 'format' = 'json');

INSERT INTO definitions
SELECT id, definition, error FROM ML_PREDICT(TABLE words, MODEL definer, DESCRIPTOR(prompt));

-- llm_generate is loaded too (bin/kindling flink: LOAD MODULE kindling with --model's options). This job runs in
-- batch mode, where it serves one row of a subtask at a time; ML_PREDICT above keeps many in the engine.
SELECT id, llm_generate(prompt, MAP['max_tokens', '12', 'temperature', '0']) AS short_definition
FROM words WHERE id IN ('lexiphanic', 'litotes', 'logman');
