package io.kindling.runtime;

import io.kindling.options.InvalidInputException;

/**
 * An option that is unknown or has a bad value, named as the user spelled it ({@code option 'max-tokens' must be an
 * integer, got 'many'}). Each front end prefixes its own function's name where it reports it.
 */
public class InvalidOptionException extends InvalidInputException {

    /** A problem of the options as a whole (an unknown key, two constraints), or of one option when {@code key} is set. */
    protected InvalidOptionException(String key, String problem, String message) {
        super(message, key, problem);
    }

    public InvalidOptionException(String problem) {
        this(null, problem, problem);
    }

    public static InvalidOptionException badValue(String spelledKey, String problem) {
        return new InvalidOptionException(spelledKey, problem, "option '" + spelledKey + "' " + problem);
    }

    /** The option as the user spelled it, or null when the problem is not one option's. */
    public String key() {
        return subject();
    }
}
