package io.kindling.spark.runtime;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;

/** Log4j 2 calls, apart so that a JVM without Log4j's core fails only here, with a {@link LinkageError}. */
final class Log4jLevels {

    private Log4jLevels() {
    }

    /** Sets {@code logger} to ERROR unless the configuration has its own entry for it. */
    static void raiseToError(String logger) {
        if (LogManager.getContext(false) instanceof LoggerContext context
                && !context.getConfiguration().getLoggerConfig(logger).getName().equals(logger)) {
            Configurator.setLevel(logger, Level.ERROR);
        }
    }
}
