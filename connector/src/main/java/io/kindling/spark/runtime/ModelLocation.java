package io.kindling.spark.runtime;

import java.net.URI;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Where {@code spark.kindling.model} points, made local: a plain path or a {@code file:} URI is used in place
 * (every host is expected to see it); any other Hadoop FileSystem URI ({@code hdfs:}, {@code s3a:}, ...) is
 * copied once per host into the model cache, {@code spark.kindling.modelCacheDir}, by default
 * {@code ${java.io.tmpdir}/kindling-models}.
 */
final class ModelLocation {

    static final String CACHE_DIR_CONF = "spark.kindling.modelCacheDir";
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

    private ModelLocation() {
    }

    static Path local(String model) {
        if (!SCHEME.matcher(model).find()) {
            return Path.of(model);
        }
        URI uri = new org.apache.hadoop.fs.Path(model).toUri();
        if ("file".equals(uri.getScheme())) {
            return Path.of(uri.getPath());
        }
        return cacheOfThisExecutor().fetch(uri).dir();
    }

    /** The cache and Hadoop configuration of the running Spark application, or the defaults outside one. */
    private static ModelCache cacheOfThisExecutor() {
        SparkEnv env = SparkEnv.get();
        Path defaultRoot = Path.of(System.getProperty("java.io.tmpdir"), "kindling-models");
        if (env == null) {
            return new ModelCache(defaultRoot, new Configuration());
        }
        SparkConf conf = env.conf();
        Path root = conf.contains(CACHE_DIR_CONF) ? Path.of(conf.get(CACHE_DIR_CONF)) : defaultRoot;
        return new ModelCache(root, SparkHadoopUtil.get().newConfiguration(conf));
    }
}
