package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.IntBuffer;
import java.util.IdentityHashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * {@code kd_apply_token_bitmask} (token_bitmask.cu): structured output's allowed-token bitmasks applied to device
 * logits rows in place, from one upload of the row indices and {@code ceil(vocab / 32)} words per distinct mask; the
 * logits never come to the host. The CPU twin is {@code io.kindling.structured.TokenBitmask}.
 */
final class TokenBitmaskKernel implements AutoCloseable {

    private static final int THREADS = 256;

    private final CUfunction kernel;
    private final int words;
    private PinnedBuffer host;
    private DeviceBuffer device;

    TokenBitmaskKernel(KernelModule module, int vocabSize) {
        this.kernel = module.function("kd_apply_token_bitmask");
        this.words = (vocabSize + 31) >>> 5;
    }

    /**
     * Enqueues on {@code stream}: row {@code rows[i]} of {@code logits} keeps only the tokens {@code masks[i]}
     * allows. Masks are uploaded once per distinct array (the grammar shares one per automaton state, so rows in
     * the same state send it once), with a bulk copy. The upload buffer is reused by the next call, so the caller
     * waits for the stream in between.
     */
    void apply(CUstream stream, CUdeviceptr logits, int vocabSize, int[] rows, int[][] masks) {
        int n = rows.length;
        Map<int[], Integer> distinct = new IdentityHashMap<>();
        int[] maskOf = new int[n];
        for (int i = 0; i < n; i++) {
            if (masks[i].length != words) {
                throw new IllegalArgumentException("a token bitmask of " + masks[i].length + " words for a vocab of "
                        + vocabSize + " (" + words + " words)");
            }
            Integer index = distinct.putIfAbsent(masks[i], distinct.size());
            maskOf[i] = index == null ? distinct.size() - 1 : index;
        }
        long bytes = ((long) 2 * n + (long) distinct.size() * words) * Integer.BYTES;
        if (host == null || host.buffer().capacity() < bytes) {
            close();
            host = PinnedBuffer.allocate((int) Math.max(bytes, 64L * (2 + words) * Integer.BYTES));
            device = DeviceBuffer.allocate(host.buffer().capacity());
        }
        IntBuffer b = host.buffer().asIntBuffer(); // little-endian, as the device reads it
        b.put(rows).put(maskOf);
        for (Map.Entry<int[], Integer> e : distinct.entrySet()) {
            b.position(2 * n + e.getValue() * words);
            b.put(e.getKey());
        }
        cuMemcpyHtoDAsync(device.ptr(), host.pointer(), bytes, stream);
        Launch.kernel(kernel, stream, n, 1, 1, THREADS, 0, logits, vocabSize, device.ptr(), n, words);
    }

    @Override
    public void close() {
        if (host != null) {
            host.close();
            host = null;
        }
        if (device != null) {
            device.close();
            device = null;
        }
    }
}
