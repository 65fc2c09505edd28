package io.kindling.core;

/** Where a {@link Sequence} is: queued (new or preempted), holding KV blocks, or done. */
enum SequenceStatus {
    WAITING,
    RUNNING,
    FINISHED
}
