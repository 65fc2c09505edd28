package io.kindling.spark.runtime;

/** The configured model cannot be found or copied to this host; names the location and the problem. */
public class ModelLocationException extends RuntimeException {

    ModelLocationException(String location, String problem) {
        super("model " + location + ": " + problem);
    }

    ModelLocationException(String location, String problem, Throwable cause) {
        super("model " + location + ": " + problem, cause);
    }
}
