package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * Device time of a step's ops, by family, for {@code kindling bench --profile}. A profiled step first queues
 * {@code kd_spin} (profile.cu), which holds the stream for {@link #HOLD_NANOS} while the host queues the whole step
 * behind it; an event at every op boundary then times each op with no launch gap in between. The caller checks
 * that its queuing took less than the hold.
 */
final class OpProfiler implements AutoCloseable {

    /** Far more than the host takes to queue a step of a few hundred launches. */
    static final long HOLD_NANOS = 50_000_000L;

    private final CUfunction spin;
    private final List<CUevent> events = new ArrayList<>();
    /** The family of the interval each recorded event opens; null for an end. */
    private final List<String> families = new ArrayList<>();
    private boolean armed;
    /** Whether marks are recorded: from a profiled step's {@link #begin} to the next step's. */
    private boolean recording;
    /** Whether a recording waits for {@link #finish}. */
    private boolean unread;

    OpProfiler(KernelModule module) {
        this(module.function("kd_spin"));
    }

    /** Over {@code spin}, which only an armed profiler's {@link #begin} launches: unarmed, it touches no GPU. */
    OpProfiler(CUfunction spin) {
        this.spin = spin;
    }

    /** The next {@link #begin} records. */
    void arm() {
        armed = true;
    }

    /** Drops an arming that no forward pass took (a step that only finished the previous one's tokens). */
    void disarm() {
        armed = false;
    }

    /** Whether a profiled step's recording waits for {@link #finish}. */
    boolean hasRecording() {
        return unread;
    }

    /**
     * At the start of a forward pass: ends the marks of an earlier profiled step (asynchronous scheduling queues the
     * next step before that profile is read); when armed, holds the stream and starts recording. Returns whether it
     * did.
     */
    boolean begin(CUstream stream) {
        recording = false;
        if (!armed) {
            return false;
        }
        armed = false;
        recording = true;
        unread = true;
        families.clear();
        Launch.kernel(spin, stream, 1, 1, 1, 1, 0, HOLD_NANOS);
        return true;
    }

    /** Marks on the stream where the ops of {@code family} start (null: where the timed work ends). */
    void mark(CUstream stream, String family) {
        if (!recording) {
            return;
        }
        int i = families.size();
        if (i == events.size()) {
            CUevent event = new CUevent();
            cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT);
            events.add(event);
        }
        cuEventRecord(events.get(i), stream);
        families.add(family);
    }

    /** Ends the recording: waits for the last mark and sums the intervals by family, in order of first appearance. */
    Map<String, Double> finish() {
        if (!unread) {
            return Map.of();
        }
        recording = false;
        unread = false;
        Map<String, Double> millis = new LinkedHashMap<>();
        int n = families.size();
        if (n == 0) {
            return millis;
        }
        cuEventSynchronize(events.get(n - 1));
        float[] elapsed = new float[1];
        for (int i = 0; i + 1 < n; i++) {
            String family = families.get(i);
            if (family != null) {
                cuEventElapsedTime(elapsed, events.get(i), events.get(i + 1));
                millis.merge(family, (double) elapsed[0], Double::sum);
            }
        }
        return millis;
    }

    @Override
    public void close() {
        for (CUevent event : events) {
            cuEventDestroy(event);
        }
        events.clear();
    }
}
