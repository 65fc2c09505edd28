package io.kindling.runtime;

import java.util.Locale;

/**
 * The table formats the job runners ({@code kindling spark}, {@code kindling flink}) read and write, named and told
 * from a path's extension by one rule, so one command line means the same to both.
 */
public enum TableFileFormat {
    JSONL,
    PARQUET,
    CSV;

    /**
     * A {@code --format} value: {@code jsonl} (or {@code json}), {@code parquet}, {@code csv}.
     *
     * @throws IllegalArgumentException naming the value and the choices
     */
    public static TableFileFormat named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "jsonl", "json" -> JSONL;
            case "parquet" -> PARQUET;
            case "csv" -> CSV;
            default -> throw new IllegalArgumentException("unknown format '" + name + "': use jsonl, parquet or csv");
        };
    }

    /**
     * The format a path's extension names ({@code .jsonl}, {@code .json}, {@code .parquet}, {@code .csv}); a
     * directory a job wrote has no extension, so it needs {@code --format}.
     *
     * @throws IllegalArgumentException saying to pass {@code --format}
     */
    public static TableFileFormat of(String path) {
        String name = path.replaceAll("/+$", "");
        int dot = name.lastIndexOf('.');
        if (dot < 0 || dot < name.lastIndexOf('/')) {
            throw new IllegalArgumentException("cannot tell the format of " + path + " from its name: pass --format");
        }
        String extension = name.substring(dot + 1);
        try {
            return named(extension);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot tell the format of " + path + " from its extension '."
                    + extension + "': pass --format jsonl, parquet or csv", e);
        }
    }
}
