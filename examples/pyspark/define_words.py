"""Defines the sample words with the bundled model from PySpark, through the llm_generate SQL function.

Run from the repository root with a Spark 4.1 distribution (or `pip install pyspark==4.1.3`), after
`mvn -pl connector -am package -DskipTests` has built the shaded connector jar:

    spark-submit --jars connector/target/kindling-spark-0.1.0-SNAPSHOT-shaded.jar \
        --conf spark.driver.extraJavaOptions=--add-modules=jdk.incubator.vector \
        --conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector \
        examples/pyspark/define_words.py examples/models/kindling-define-6m examples/data/words.jsonl /tmp/define-words-py
"""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import call_function, col, create_map, lit


def main(model: str, words: str, output: str) -> None:
    spark = (
        SparkSession.builder.appName("define words (pyspark)")
        .config("spark.sql.extensions", "io.kindling.spark.KindlingExtensions")
        # executors may start elsewhere: give them an absolute path (or an hdfs:/s3a: URI)
        .config("spark.kindling.model", os.path.abspath(model))
        .getOrCreate()
    )
    table = spark.read.json(words)
    greedy = create_map(lit("max_tokens"), lit("48"), lit("temperature"), lit("0"))
    # the function by name works on classic PySpark and on Spark Connect alike; as a SQL expression it reads
    # table.selectExpr("id", "llm_generate(prompt, map('max_tokens', '48', 'temperature', '0')) AS definition")
    defined = table.select("id", call_function("llm_generate", col("prompt"), greedy).alias("definition"))
    defined.write.mode("overwrite").parquet(output)
    spark.read.parquet(output).show(5, truncate=False)
    spark.stop()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: define_words.py MODEL WORDS OUTPUT")
    main(*sys.argv[1:])
