package io.kindling.spark.runtime;

import io.kindling.runtime.ModelCache;
import io.kindling.runtime.ModelLocator;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Where {@code spark.kindling.model} points, made local ({@link ModelLocator}): a remote checkpoint is copied once
 * per host into the model cache, {@code spark.kindling.modelCacheDir}, by default
 * {@code ${java.io.tmpdir}/kindling-models}, through the application's Hadoop configuration.
 */
final class ModelLocation {

    static final String CACHE_DIR_CONF = "spark.kindling.modelCacheDir";

    private ModelLocation() {
    }

    static Path local(String model) {
        return ModelLocator.local(model, ModelLocation::cacheOfThisExecutor);
    }

    /** The cache and Hadoop configuration of the running Spark application, or the defaults outside one. */
    private static ModelCache cacheOfThisExecutor() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return new ModelCache(ModelLocator.defaultCacheRoot(), new Configuration());
        }
        SparkConf conf = env.conf();
        Path root = conf.contains(CACHE_DIR_CONF) ? Path.of(conf.get(CACHE_DIR_CONF)) : ModelLocator.defaultCacheRoot();
        return new ModelCache(root, SparkHadoopUtil.get().newConfiguration(conf));
    }
}
