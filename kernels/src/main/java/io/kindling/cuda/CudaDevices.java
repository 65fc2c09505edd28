package io.kindling.cuda;

import io.kindling.core.EngineConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The GPUs one engine runs on, one a tensor-parallel rank, in rank order: {@code cuda} is the first
 * {@code tensor_parallel_size} ordinals (as vLLM takes the first visible GPUs), {@code cuda:N} one GPU, and
 * {@code cuda:N,M,...} one ordinal a rank, as {@code runtime/BoundDevice} binds a task's GPU addresses. An ordinal may
 * repeat: {@code cuda:0,0} puts two ranks on one card, which checks the split on a single-GPU host.
 *
 * @param ordinals one CUDA ordinal a rank
 */
record CudaDevices(List<Integer> ordinals) {

    private static final Pattern SPEC = Pattern.compile("cuda(:\\d+(,\\d+)*)?");

    CudaDevices {
        ordinals = List.copyOf(ordinals);
    }

    static boolean isCudaDevice(String device) {
        return SPEC.matcher(device).matches();
    }

    /**
     * @throws IllegalArgumentException when {@code device} is not a CUDA device spelling
     * @throws EngineConfigException on {@code tensor_parallel_size} when the device names another number of GPUs
     */
    static CudaDevices parse(String device, int tensorParallelSize) {
        if (!isCudaDevice(device)) {
            throw new IllegalArgumentException("not a CUDA device: " + device);
        }
        List<Integer> ordinals = new ArrayList<>();
        if (device.equals("cuda")) {
            return consecutive(0, tensorParallelSize);
        }
        for (String ordinal : device.substring("cuda:".length()).split(",")) {
            try {
                ordinals.add(Integer.parseInt(ordinal));
            } catch (NumberFormatException e) { // digits only, by the pattern: too many of them
                throw new IllegalArgumentException("device " + device + ": no such CUDA ordinal " + ordinal);
            }
        }
        if (ordinals.size() != tensorParallelSize) {
            throw new EngineConfigException("tensor_parallel_size", tensorParallelSize + " needs one GPU a rank, but "
                    + "device " + device + " names " + ordinals.size() + (ordinals.size() == 1 ? "" : " (in rank "
                    + "order)") + ": name " + tensorParallelSize + ", e.g. " + consecutive(ordinals.get(0),
                    tensorParallelSize) + ", or use device cuda for GPUs 0 to " + (tensorParallelSize - 1));
        }
        return new CudaDevices(ordinals);
    }

    int size() {
        return ordinals.size();
    }

    int ordinal(int rank) {
        return ordinals.get(rank);
    }

    /** How an error names {@code rank}'s GPU: {@code cuda:1}, or {@code rank 1 (cuda:0)} among several ranks. */
    String name(int rank) {
        String gpu = "cuda:" + ordinal(rank);
        return size() == 1 ? gpu : "rank " + rank + " (" + gpu + ")";
    }

    /** How many ranks run on GPU {@code ordinal}: they share its memory. */
    int ranksOn(int ordinal) {
        return (int) ordinals.stream().filter(o -> o == ordinal).count();
    }

    /**
     * {@code perRank} added over the ranks on {@code rank}'s GPU, itself included: what bytes of theirs (weights, a
     * scratch cache) take of that card's memory together.
     */
    long onGpuOf(int rank, long[] perRank) {
        long sum = 0;
        for (int r = 0; r < ordinals.size(); r++) {
            if (ordinal(r) == ordinal(rank)) {
                sum += perRank[r];
            }
        }
        return sum;
    }

    /** {@code cuda:0} or {@code cuda:0,1}: how {@code Backend.device()} names them. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("cuda:");
        for (int r = 0; r < ordinals.size(); r++) {
            s.append(r == 0 ? "" : ",").append(ordinals.get(r));
        }
        return s.toString();
    }

    private static CudaDevices consecutive(int first, int count) {
        List<Integer> ordinals = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            ordinals.add(first + r);
        }
        return new CudaDevices(ordinals);
    }
}
