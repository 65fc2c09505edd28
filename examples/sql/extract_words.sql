-- Extraction: each sample word becomes a typed row (definition, part of speech, synonyms), not text to clean up.
-- llm_extract derives a JSON schema from the struct type (NOT NULL fields required, arrays, nested structs,
-- decimals, dates), the engine can only emit documents of it, and Spark's from_json turns each into the struct, so
-- every row parses. The bundled model never saw JSON: its definitions come out, its parts of speech are guesses.
-- Run from the repository root, with this repository's local Spark:
--   bin/kindling spark --model examples/models/kindling-define-6m --sql examples/sql/extract_words.sql

CREATE OR REPLACE TEMPORARY VIEW words
USING json OPTIONS (path 'examples/data/words.jsonl');

INSERT OVERWRITE DIRECTORY '/tmp/kindling-extract-words-sql' USING parquet
SELECT id, entry.* FROM (
  SELECT id, llm_extract(prompt,
      'definition STRING NOT NULL, part_of_speech STRING NOT NULL, synonyms ARRAY<STRING> NOT NULL',
      map('max_tokens', '96', 'temperature', '0')) AS entry
  FROM words);

SELECT * FROM parquet.`/tmp/kindling-extract-words-sql` LIMIT 5;
