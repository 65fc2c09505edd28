package io.kindling.runtime;

/** The configured model cannot be found or copied to this host; names the location and the problem. */
public class ModelLocationException extends RuntimeException {

    public ModelLocationException(String location, String problem) {
        super("model " + location + ": " + problem);
    }

    public ModelLocationException(String location, String problem, Throwable cause) {
        super("model " + location + ": " + problem, cause);
    }
}
