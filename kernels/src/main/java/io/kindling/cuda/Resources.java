package io.kindling.cuda;

import java.util.ArrayList;
import java.util.List;

/** Releases device resources in reverse order of acquisition; the first failure is thrown, later ones suppressed. */
final class Resources {

    private Resources() {
    }

    /** Closes those not null, last first: the null ones are what a constructor that failed did not allocate. */
    static void closeAll(AutoCloseable... resources) {
        List<AutoCloseable> allocated = new ArrayList<>();
        for (AutoCloseable r : resources) {
            if (r != null) {
                allocated.add(r);
            }
        }
        closeAll(allocated);
    }

    /** Closes and removes every element, last first. */
    static void closeAll(List<? extends AutoCloseable> resources) {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.remove(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Closes {@code resources} as {@link #closeAll(List)} does after {@code failure} stopped their owner's
     * construction; a failure to close is added to {@code failure}'s suppressed ones, which the caller then throws.
     */
    static void closeAllAfter(Throwable failure, List<? extends AutoCloseable> resources) {
        try {
            closeAll(resources);
        } catch (RuntimeException closing) {
            failure.addSuppressed(closing);
        }
    }
}
