package io.kindling.spark.runtime;

import io.kindling.runtime.CheckpointFiles;
import io.kindling.runtime.ModelLocationException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Paths;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * The driver's look at {@code spark.kindling.model} when a query is analysed: it exists and is a checkpoint directory
 * ({@code config.json} and safetensors weights), so a wrong path fails the query there, naming it, rather than every
 * task on the executors. A local path must then be visible to the driver as well as to the executors.
 */
public final class ModelCheck {

    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

    private ModelCheck() {
    }

    /**
     * @param model a local absolute path or a Hadoop FileSystem URI
     * @throws ModelLocationException naming the model and what is wrong with it
     */
    public static void onDriver(String model) {
        URI uri = SCHEME.matcher(model).find() ? new Path(model).toUri() : Paths.get(model).toUri();
        try {
            Path dir = new Path(uri);
            CheckpointFiles.select(dir.getFileSystem(hadoopConf()), dir, model, " (checked on the driver)");
        } catch (IOException e) {
            throw new ModelLocationException(model, "cannot be read from the driver: " + e, e);
        }
    }

    private static Configuration hadoopConf() {
        SparkEnv env = SparkEnv.get();
        return env == null ? new Configuration() : SparkHadoopUtil.get().newConfiguration(env.conf());
    }
}
