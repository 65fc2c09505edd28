package io.kindling.runtime;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Where a configured model is, made local: a plain path or a {@code file:} URI is used in place (every host is
 * expected to see it); any other Hadoop FileSystem URI ({@code hdfs:}, {@code s3a:}, ...) is copied once per host
 * into the front end's model cache. Local models never load a Hadoop class, so a Flink TaskManager without Hadoop
 * serves them.
 */
public final class ModelLocator {

    /** A URI scheme ({@code hdfs:}, {@code file:}; two letters at least, so not a drive letter). */
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");
    private static final String FILE = "file:";

    private ModelLocator() {
    }

    /**
     * The configured model as the job's other JVMs (executors, TaskManagers) can find it: a URI ({@code hdfs:},
     * {@code s3a:}, {@code file:}) is kept, a local path made absolute, since they may start in another directory.
     */
    public static String absolute(String model) {
        try {
            if (new URI(model).getScheme() != null) {
                return model;
            }
        } catch (URISyntaxException e) {
            // not a URI: a local path
        }
        return Path.of(model).toAbsolutePath().normalize().toString();
    }

    /**
     * @param cache the host's cache, asked for only when the model is remote
     * @throws ModelLocationException when a remote model cannot be found or copied
     */
    public static Path local(String model, Supplier<ModelCache> cache) {
        if (!SCHEME.matcher(model).find()) {
            return Path.of(model);
        }
        if (model.regionMatches(true, 0, FILE, 0, FILE.length())) {
            // file:/m, file:///m: the path as written (Path.of drops the extra slashes)
            return Path.of(model.substring(FILE.length()));
        }
        return cache.get().fetch(new org.apache.hadoop.fs.Path(model).toUri()).dir();
    }

    /** The default cache root, {@code ${java.io.tmpdir}/kindling-models}. */
    public static Path defaultCacheRoot() {
        return Path.of(System.getProperty("java.io.tmpdir"), "kindling-models");
    }

}
