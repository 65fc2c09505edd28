package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteBuffer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * {@code kd_apply_token_bitmask} (token_bitmask.cu): structured output's allowed-token bitmasks applied to device
 * logits rows in place, from one upload of the row indices and {@code rows x ceil(vocab / 32)} mask words; the logits
 * never come to the host. The CPU twin is {@code io.kindling.structured.TokenBitmask}.
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
     * allows. The upload buffer is reused by the next call, so the caller waits for the stream in between.
     */
    void apply(CUstream stream, CUdeviceptr logits, int vocabSize, int[] rows, int[][] masks) {
        int n = rows.length;
        long bytes = (long) n * (1 + words) * Integer.BYTES;
        if (host == null || host.buffer().capacity() < bytes) {
            close();
            host = PinnedBuffer.allocate((int) Math.max(bytes, 64L * (1 + words) * Integer.BYTES));
            device = DeviceBuffer.allocate(host.buffer().capacity());
        }
        ByteBuffer b = host.buffer();
        for (int i = 0; i < n; i++) {
            if (masks[i].length != words) {
                throw new IllegalArgumentException("a token bitmask of " + masks[i].length + " words for a vocab of "
                        + vocabSize + " (" + words + " words)");
            }
            b.putInt(i * Integer.BYTES, rows[i]);
            int at = (n + i * words) * Integer.BYTES;
            for (int w = 0; w < words; w++) {
                b.putInt(at + w * Integer.BYTES, masks[i][w]);
            }
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
