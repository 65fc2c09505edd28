package io.kindling.options;

/** The kind of value an option takes, as every front end reads it from text or JSON. */
public enum OptionType {
    INT,
    LONG,
    DOUBLE,
    BOOLEAN,
    /** Free text: a path, a column name. */
    STRING,
    /** One of the option's choices. */
    CHOICE,
    /** A byte count, or a number with a binary unit: {@code 512m}, {@code 2g}. */
    SIZE,
    /** Strings: a JSON list (or one string) in a row, comma-separated in Spark. */
    STRING_LIST,
    /** Integers: a JSON list in a row, comma-separated in Spark. */
    INT_LIST
}
