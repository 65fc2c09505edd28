package io.kindling.flink;

import org.apache.flink.table.api.ValidationException;

/** A Kindling model's or {@code llm_generate}'s option is unknown or has a bad value; names the key and the value. */
public final class InvalidKindlingOptionException extends ValidationException {

    InvalidKindlingOptionException(String message) {
        super(message);
    }

    static InvalidKindlingOptionException badValue(String key, String problem) {
        return new InvalidKindlingOptionException("option '" + key + "' " + problem);
    }
}
