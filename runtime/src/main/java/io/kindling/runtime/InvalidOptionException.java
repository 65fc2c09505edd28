package io.kindling.runtime;

/**
 * An option that is unknown or has a bad value, named as the user spelled it ({@code option 'max-tokens' must be an
 * integer, got 'many'}). Each front end prefixes its own function's name where it reports it.
 */
public class InvalidOptionException extends IllegalArgumentException {

    public InvalidOptionException(String problem) {
        super(problem);
    }

    public static InvalidOptionException badValue(String spelledKey, String problem) {
        return new InvalidOptionException("option '" + spelledKey + "' " + problem);
    }
}
