package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.backend.StepProfile;
import io.kindling.core.StepTimes;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepProfilesTest {

    @Test
    void reportsTheLargestBatchWithBothKindsOfStepsAndTheDeviceIdleTime() {
        StepProfiles profiles = new StepProfiles();
        for (int i = 0; i < 3; i++) {
            StepTimes host = new StepTimes(100_000, 1_000_000 + i * 100_000, 6_000_000, 400_000);
            profiles.recordTimed(256, host, new StepProfile(800_000, 250, 0, Map.of()), 9_000_000 + i * 1_000_000);
            profiles.recordTimed(300, host, new StepProfile(800_000, 250, 0, Map.of()), 1);
        }
        Map<String, Double> ops = new LinkedHashMap<>();
        ops.put("attention", 3.5);
        ops.put("gemm qkv", 1.25);
        profiles.recordProfiled(256, new StepProfile(0, 250, 0, ops));
        profiles.recordProfiled(256, new StepProfile(0, 250, 0, Map.of())); // a step that timed nothing: ignored

        assertEquals("""
                Profile of decode-only steps at batch 256 (3 timed, 1 profiled; medians in ms)
                  step, wall time                                      10.000
                  host: schedule                                        0.100
                  host: forward (inputs, upload, queue launches)        1.100
                    of which queuing in the backend                     0.800
                  host: sample (waits for the device first)             6.000
                  host: postprocess                                     0.400
                  launches per step                                       250 kernels, 0 graph replays
                  device time by op family, ops back to back:
                    attention                                           3.500
                    gemm qkv                                            1.250
                    sum: device busy                                    4.750
                  device idle in a step (wall - busy: launch gaps, host waits)    5.250
                """, profiles.report());
    }

    @Test
    void saysSoWhenNoBatchWasProfiled() {
        StepProfiles profiles = new StepProfiles();
        profiles.recordTimed(8, StepTimes.NONE, new StepProfile(0, 0, 0, Map.of()), 1);
        assertEquals("Profile: no batch size had both timed and profiled decode-only steps\n", profiles.report());
    }
}
