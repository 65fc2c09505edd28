-- Defines the sample words with the bundled model, in SQL: the same job as DefineWords.java.
-- Run from the repository root, with this repository's local Spark:
--   bin/kindling spark --model examples/models/kindling-define-6m --sql examples/sql/define_words.sql
-- or with a Spark 4.1 distribution and the shaded connector jar (see examples/README.md):
--   spark-sql --jars connector/target/kindling-spark-0.1.0-SNAPSHOT-shaded.jar \
--     --conf spark.sql.extensions=io.kindling.spark.KindlingExtensions \
--     --conf spark.driver.extraJavaOptions=--add-modules=jdk.incubator.vector \
--     --conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector \
--     --conf spark.kindling.model=$PWD/examples/models/kindling-define-6m \
--     -f examples/sql/define_words.sql

CREATE OR REPLACE TEMPORARY VIEW words
USING json OPTIONS (path 'examples/data/words.jsonl');

INSERT OVERWRITE DIRECTORY '/tmp/kindling-define-words-sql' USING parquet
SELECT id, llm_generate(prompt, map('max_tokens', '48', 'temperature', '0')) AS definition
FROM words;

SELECT * FROM parquet.`/tmp/kindling-define-words-sql` LIMIT 5;
