package io.kindling.core;

/**
 * Host wall time of one engine step, by phase: where a step's time goes besides the device.
 *
 * @param scheduleNanos    {@code scheduler.schedule()}: admission, block allocation, preemption
 * @param forwardNanos     the runner: copy-on-write copies, flattening the batch, and the backend's
 *                         {@code forward} (uploading and queuing the launches; a GPU backend does not wait)
 * @param sampleNanos      sampling, which on a GPU first waits for the forward pass, then copies ids back
 * @param postprocessNanos appending tokens, stop checks, detokenizing, freeing finished sequences
 */
public record StepTimes(long scheduleNanos, long forwardNanos, long sampleNanos, long postprocessNanos) {

    public static final StepTimes NONE = new StepTimes(0, 0, 0, 0);

    public long totalNanos() {
        return scheduleNanos + forwardNanos + sampleNanos + postprocessNanos;
    }
}
