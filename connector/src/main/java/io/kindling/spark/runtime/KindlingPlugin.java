package io.kindling.spark.runtime;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code spark.plugins=io.kindling.spark.runtime.KindlingPlugin}: at executor start, notes the executor's GPUs
 * (the binding for tasks that were assigned none) and copies {@code spark.kindling.model} into the host's model
 * cache, so the first task does not wait for a download; at executor shutdown, closes this executor's engines.
 *
 * <p>The engine itself still starts on the first task: its key holds the engine options as the query resolved
 * them (session conf and per-call options), which the executor's start-up conf cannot know, and an engine
 * started under a guessed key would be a second engine beside the one the tasks ask for.
 */
public final class KindlingPlugin implements SparkPlugin {

    static final String MODEL_CONF = "spark.kindling.model";

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new Executor();
    }

    private static final class Executor implements ExecutorPlugin {

        private static final Logger LOG = LoggerFactory.getLogger(KindlingPlugin.class);

        @Override
        public void init(PluginContext ctx, Map<String, String> extraConf) {
            ResourceInformation gpus = ctx.resources().get(DeviceBinding.GPU);
            List<String> addresses = gpus == null ? List.of() : Arrays.asList(gpus.addresses());
            DeviceBinding.recordExecutorGpus(addresses);
            if (ctx.conf().contains(MODEL_CONF)) {
                String model = ctx.conf().get(MODEL_CONF);
                try {
                    LOG.info("Kindling: model {} is at {} on executor {} (GPUs {})", model,
                            ModelLocation.local(model), ctx.executorID(), addresses);
                } catch (RuntimeException e) {
                    // The executor stays up; each task that needs the model reports the same problem.
                    LOG.warn("Kindling: cannot prepare model {} on executor {}", model, ctx.executorID(), e);
                }
            }
        }

        @Override
        public void shutdown() {
            ExecutorEngines.closeAll();
        }
    }
}
