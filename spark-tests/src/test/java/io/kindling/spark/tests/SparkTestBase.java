package io.kindling.spark.tests;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A test class with one session for all its tests: {@code local[2]} with the Kindling extension and the bundled
 * model ({@link SparkTests#session}). Engines outlive sessions (one per JVM and key), so classes share them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SparkTestBase {

    protected SparkSession spark;

    /** The master of this class's session. */
    protected String master() {
        return "local[2]";
    }

    /** Settings on top of {@link SparkTests#session}. */
    protected SparkSession.Builder configure(SparkSession.Builder builder) {
        return builder;
    }

    @BeforeAll
    final void startSpark() {
        spark = configure(SparkTests.session(master())).getOrCreate();
    }

    @AfterAll
    final void stopSpark() {
        if (spark != null) {
            spark.stop();
        }
    }
}
