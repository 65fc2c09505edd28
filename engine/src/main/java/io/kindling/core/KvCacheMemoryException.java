package io.kindling.core;

/**
 * The automatic KV cache budget cannot hold the smallest useful cache: one sequence of a full step's tokens. Thrown
 * when the engine opens, instead of starting with a cache too small to serve anything or failing later for memory.
 *
 * @see EngineConfig#kvCacheMemoryBytes()
 */
public final class KvCacheMemoryException extends RuntimeException {

    private final long neededBytes;

    KvCacheMemoryException(String device, long budgetBytes, long neededBytes, int tokens) {
        super("the automatic KV cache budget on " + device + " is " + mib(budgetBytes) + ", less than the "
                + mib(neededBytes) + " that one sequence of " + tokens + " tokens needs: give the engine more memory "
                + "(the JVM's heap, -Xmx, on the CPU, which keeps a quarter of it less the weights; "
                + "gpu_memory_utilization on a GPU) or set the KV cache memory explicitly");
        this.neededBytes = neededBytes;
    }

    /** The smallest useful cache: what an explicit KV cache memory setting must reach. */
    public long neededBytes() {
        return neededBytes;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
