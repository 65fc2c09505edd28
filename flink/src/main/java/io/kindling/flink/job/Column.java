package io.kindling.flink.job;

/** A column of the job's tables: its name and its Flink SQL type. */
record Column(String name, String sqlType) {
}
