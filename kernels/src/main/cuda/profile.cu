// The step profiler's hold: one thread waits on the GPU's global timer so that the launches the host queues behind
// it meanwhile run back to back, and the events between them time the ops without the host's launch gaps.
#include "common.cuh"

extern "C" __global__ void kd_spin(long long nanos) {
    unsigned long long start;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    unsigned long long now = start;
    while (now - start < (unsigned long long) nanos) {
        __nanosleep(10000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    }
}
