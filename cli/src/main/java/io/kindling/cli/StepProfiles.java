package io.kindling.cli;

import io.kindling.backend.StepProfile;
import io.kindling.core.StepTimes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * {@code kindling bench --profile}: where a decode step's time goes, at one batch size. Timed steps give the wall
 * time, the host's phases and the launches; profiled steps (run with the device's ops back to back, so slower and
 * not timed) give each op family's device time. The difference between the wall time and the device's busy time is
 * what the device spent waiting: launch gaps and host work in the critical path.
 */
final class StepProfiles {

    private record Timed(StepTimes host, StepProfile backend, long wallNanos) {
    }

    private final Map<Integer, List<Timed>> timed = new HashMap<>();
    private final Map<Integer, List<Map<String, Double>>> device = new HashMap<>();

    void recordTimed(int batch, StepTimes host, StepProfile backend, long wallNanos) {
        timed.computeIfAbsent(batch, b -> new ArrayList<>()).add(new Timed(host, backend, wallNanos));
    }

    void recordProfiled(int batch, StepProfile backend) {
        if (!backend.gpuMillis().isEmpty()) {
            device.computeIfAbsent(batch, b -> new ArrayList<>()).add(backend.gpuMillis());
        }
    }

    /** The table for the largest batch that has both timed and profiled steps; a line saying so when none has. */
    String report() {
        int batch = -1;
        for (int b : timed.keySet()) {
            if (device.containsKey(b) && b > batch) {
                batch = b;
            }
        }
        if (batch < 0) {
            return "Profile: no batch size had both timed and profiled decode-only steps\n";
        }
        List<Timed> steps = timed.get(batch);
        List<Map<String, Double>> profiles = device.get(batch);
        StringBuilder out = new StringBuilder();
        double wall = median(steps, t -> t.wallNanos / 1e6);
        out.append(String.format(Locale.ROOT, "Profile of decode-only steps at batch %d (%d timed, %d profiled; "
                + "medians in ms)%n", batch, steps.size(), profiles.size()));
        row(out, "step, wall time", wall);
        row(out, "host: schedule", median(steps, t -> t.host.scheduleNanos() / 1e6));
        row(out, "host: forward (inputs, upload, queue launches)", median(steps, t -> t.host.forwardNanos() / 1e6));
        row(out, "  of which queuing in the backend", median(steps, t -> t.backend.hostQueueNanos() / 1e6));
        row(out, "host: sample (waits for the device first)", median(steps, t -> t.host.sampleNanos() / 1e6));
        row(out, "host: postprocess", median(steps, t -> t.host.postprocessNanos() / 1e6));
        out.append(String.format(Locale.ROOT, "  %-50s %8.0f kernels, %.0f graph replays%n", "launches per step",
                median(steps, t -> t.backend.kernelLaunches()), median(steps, t -> t.backend.graphReplays())));
        out.append("  device time by op family, ops back to back:\n");
        Map<String, Double> families = new LinkedHashMap<>();
        for (Map<String, Double> p : profiles) {
            p.keySet().forEach(f -> families.putIfAbsent(f, 0.0));
        }
        double busy = 0;
        for (String family : families.keySet()) {
            double ms = medianOf(profiles.stream().mapToDouble(p -> p.getOrDefault(family, 0.0)).toArray());
            busy += ms;
            row(out, "  " + family, ms);
        }
        row(out, "  sum: device busy", busy);
        row(out, "device idle in a step (wall - busy: launch gaps, host waits)", wall - busy);
        return out.toString();
    }

    private static void row(StringBuilder out, String label, double millis) {
        out.append(String.format(Locale.ROOT, "  %-50s %8.3f%n", label, millis));
    }

    private static <T> double median(List<T> items, ToDoubleFunction<T> value) {
        return medianOf(items.stream().mapToDouble(value).toArray());
    }

    private static double medianOf(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
    }
}
