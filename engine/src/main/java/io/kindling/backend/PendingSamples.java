package io.kindling.backend;

/** A launched {@link BatchSampler#launch}: its results, once the device has drawn them. */
@FunctionalInterface
public interface PendingSamples {

    /** Waits for the draws; one result per draw, in the order given to the launch. */
    SampleResult[] await();
}
