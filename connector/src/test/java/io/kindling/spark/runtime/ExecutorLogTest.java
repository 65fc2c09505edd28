package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExecutorLogTest {

    @Test
    void warnsOnlyForTheCpuKernelWithoutTheVectorModuleAndSaysWhatToAdd() {
        String device = "cpu (2 threads, plain-loop kernel)";
        assertEquals(Optional.of("Kindling: this JVM runs without the Vector API module, so the CPU backend uses its "
                + "plain-loop kernel, about half as fast (" + device + "). Add --add-modules=jdk.incubator.vector "
                + "to spark.executor.extraJavaOptions and spark.driver.extraJavaOptions"),
                ExecutorLog.vectorApiWarning(device, false));
        assertEquals(Optional.empty(), ExecutorLog.vectorApiWarning(device, true));
        assertEquals(Optional.empty(), ExecutorLog.vectorApiWarning("cuda:0 (NVIDIA H100 80GB HBM3)", false));
    }
}
