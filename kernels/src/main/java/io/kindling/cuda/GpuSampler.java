package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import io.kindling.backend.Logits;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Draw;
import io.kindling.backend.PendingSamples;
import io.kindling.sampling.DrawParams;
import io.kindling.sampling.LogitAdjustments;
import io.kindling.backend.SampleResult;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.TokenLogprob;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * The CUDA backend's {@link BatchSampler}: {@code kd_sample} (sampling.cu), one CTA per draw, over the logits where
 * the forward pass left them. The host resolves each draw's {@link DrawParams} (drawing its uniform from the
 * request's generator, as the CPU does), uploads them with the adjustment lists in one pinned copy, and copies back
 * only tokens and logprobs: a draw's token equals the CPU {@code Sampler}'s for the same (row, params) up to
 * rounding at a CDF boundary. Draws beyond {@code maxDraws} run in further launches.
 *
 * <p>Structured output: a draw's allowed-token bitmask is applied to its logits row in place by
 * {@link TokenBitmaskKernel} before {@code kd_sample} reads the row. The masks are computed on the host while the
 * device still runs the step's forward pass (the backend returns from {@code forward} before the device is done, and
 * nothing here waits before the launches), so mask work overlaps the GPU. Draws sharing a row (the samples of
 * {@code n > 1} at their first token) share its mask: their constraint states are the same.
 *
 * <p>Asynchronous scheduling: {@link #launch} queues the draws and their copy back and returns; the tokens stay in
 * the device results, where {@link #takeSampled} (kd_take_sampled) writes them into the next step's deferred input
 * ids, and {@link PendingSamples#await} waits only for the copy back, not for the step queued after it.
 */
final class GpuSampler implements BatchSampler, AutoCloseable {

    // Byte layouts of sampling.cu's DrawParams, Adjustment and DrawResult (static_asserts there pin them).
    static final int PARAMS_BYTES = 56;
    static final int ADJUSTMENT_BYTES = 12;
    static final int RESULT_BYTES = 168;
    private static final int RESULT_LOGPROB_IDS = 8;
    private static final int RESULT_LOGPROBS = RESULT_LOGPROB_IDS + SamplingParams.MAX_LOGPROBS * Integer.BYTES;
    private static final int THREADS = 1024;
    /** Adjustment entries the first parameter buffer holds per draw; it grows when a batch needs more. */
    private static final int INITIAL_ADJUSTMENTS_PER_DRAW = 256;

    private final CUfunction kernel;
    private final CUfunction takeSampled;
    private final TokenBitmaskKernel bitmask;
    private final CUstream stream;
    private final OpProfiler profiler;
    private final int maxDraws;
    private final int vocabSize;
    private final DeviceBuffer work;
    private final DeviceBuffer results;
    private final PinnedBuffer resultsHost;
    /** The last launch's copy back; its parameter upload ran before it, so it also guards the parameter buffers. */
    private final CopyFence copiedBack = new CopyFence();
    /** Launches so far: a pending launch's results are in {@code resultsHost} until the next one. */
    private long launches;
    /** The tokens of the last {@link #launch} when it waited for them (it took several launches); else null. */
    private int[] lastTokensOnHost;
    private DeviceBuffer params;
    private PinnedBuffer paramsHost;

    /**
     * Allocates a private fp32 copy of a row per draw ({@code maxDraws * vocabSize * 4} bytes) and the parameter and
     * result buffers.
     */
    GpuSampler(KernelModule module, KernelModule bitmaskModule, CUstream stream, OpProfiler profiler, int maxDraws,
            int vocabSize) {
        if (maxDraws < 1) {
            throw new IllegalArgumentException("maxDraws must be at least 1, got " + maxDraws);
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be at least 1, got " + vocabSize);
        }
        this.kernel = module.function("kd_sample");
        this.takeSampled = module.function("kd_take_sampled");
        this.bitmask = new TokenBitmaskKernel(bitmaskModule, vocabSize);
        this.stream = stream;
        this.profiler = profiler;
        this.maxDraws = maxDraws;
        this.vocabSize = vocabSize;
        try {
            this.work = DeviceBuffer.allocate((long) maxDraws * vocabSize * Float.BYTES);
            this.results = DeviceBuffer.allocate((long) maxDraws * RESULT_BYTES);
            this.resultsHost = PinnedBuffer.allocate(maxDraws * RESULT_BYTES);
            allocateParams((long) maxDraws * (PARAMS_BYTES + INITIAL_ADJUSTMENTS_PER_DRAW * ADJUSTMENT_BYTES));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public SampleResult[] sample(Logits logits, List<Draw> draws) {
        DeviceLogits device = deviceLogits(logits);
        SampleResult[] out = new SampleResult[draws.size()];
        for (int from = 0; from < draws.size(); from += maxDraws) {
            List<Draw> chunk = draws.subList(from, Math.min(draws.size(), from + maxDraws));
            DrawParams[] resolved = queue(device, chunk, from);
            copiedBack.await();
            read(chunk, resolved, out, from);
        }
        lastTokensOnHost = null;
        return out;
    }

    /**
     * Queues the draws and returns; their tokens stay in the device results for {@link #takeSampled}. More draws
     * than one launch holds are sampled now instead, their tokens kept on the host for {@link #resolveOnHost}.
     */
    @Override
    public PendingSamples launch(Logits logits, List<Draw> draws) {
        if (draws.size() > maxDraws) {
            SampleResult[] results = sample(logits, draws);
            lastTokensOnHost = new int[results.length];
            for (int i = 0; i < results.length; i++) {
                lastTokensOnHost[i] = results[i].tokenId();
            }
            return () -> results;
        }
        DrawParams[] resolved = queue(deviceLogits(logits), draws, 0);
        lastTokensOnHost = null;
        long launch = launches;
        return () -> {
            if (launch != launches) {
                throw new IllegalStateException("draws awaited after a later launch of the sampler overwrote them");
            }
            copiedBack.await();
            SampleResult[] out = new SampleResult[draws.size()];
            read(draws, resolved, out, 0);
            return out;
        };
    }

    /**
     * Writes the deferred tokens that the last {@link #launch} waited for into {@code inputIds}, and returns what is
     * left for {@link #takeSampled}: nothing then, else all of {@code deferred}.
     */
    DeferredTokens resolveOnHost(DeferredTokens deferred, int[] inputIds) {
        if (deferred.size() == 0 || lastTokensOnHost == null) {
            return deferred;
        }
        deferred.resolve(lastTokensOnHost, inputIds);
        return DeferredTokens.NONE;
    }

    /**
     * Queues kd_take_sampled: {@code inputIds[tokenIndices[i]] = } the token of the last launch's draw
     * {@code drawIndices[i]}, for {@code n} uploaded index pairs, ordered after that launch on the stream.
     */
    void takeSampled(CUstream s, int n, CUdeviceptr drawIndices, CUdeviceptr tokenIndices, CUdeviceptr inputIds) {
        if (n == 0) {
            return;
        }
        int threads = 128;
        Launch.kernel(takeSampled, s, (n + threads - 1) / threads, 1, 1, threads, 0, results.ptr(), drawIndices,
                tokenIndices, n, inputIds);
    }

    private DeviceLogits deviceLogits(Logits logits) {
        if (!(logits instanceof DeviceLogits device)) {
            throw new IllegalArgumentException("GpuSampler samples the CUDA backend's device logits, got "
                    + logits.getClass().getName());
        }
        if (logits.vocabSize() != vocabSize) {
            throw new IllegalArgumentException("logits have vocab_size " + logits.vocabSize() + ", the sampler "
                    + vocabSize);
        }
        return device;
    }

    /**
     * Queues one launch over at most {@code maxDraws} draws and the copy back of its results; returns the draws'
     * resolved parameters. Waits first for the previous launch's copy back, whose buffers this one rewrites.
     */
    private DrawParams[] queue(DeviceLogits logits, List<Draw> draws, int outOffset) {
        int n = draws.size();
        DrawParams[] resolved = new DrawParams[n];
        long numAdjustments = 0;
        for (int i = 0; i < n; i++) {
            Draw draw = draws.get(i);
            if (draw.row() >= logits.numRows()) {
                throw new IllegalArgumentException("draw " + (outOffset + i) + " names logits row " + draw.row()
                        + " of " + logits.numRows());
            }
            resolved[i] = DrawParams.of(draw.state(), vocabSize);
            int numLogprobs = resolved[i].logprobs().orElse(0);
            if (numLogprobs > SamplingParams.MAX_LOGPROBS) {
                throw new IllegalArgumentException("draw " + (outOffset + i) + " asks for " + numLogprobs
                        + " logprobs; the GPU sampler returns at most " + SamplingParams.MAX_LOGPROBS);
            }
            numAdjustments += resolved[i].adjustments().size();
        }
        copiedBack.await();
        long adjustmentsOffset = (long) n * PARAMS_BYTES;
        long bytes = adjustmentsOffset + numAdjustments * ADJUSTMENT_BYTES;
        if (bytes > params.bytes()) {
            growParams(bytes);
        }
        writeParams(draws, resolved);
        applyMasks(logits, draws, resolved);
        profiler.mark(stream, "sampling");
        cuMemcpyHtoDAsync(params.ptr(), paramsHost.pointer(), bytes, stream);
        Launch.kernel(kernel, stream, n, 1, 1, THREADS, 0, logits.pointer(), vocabSize, params.ptr(),
                params.at(adjustmentsOffset), work.ptr(), results.ptr());
        profiler.mark(stream, "copy back");
        cuMemcpyDtoHAsync(resultsHost.pointer(), results.ptr(), (long) n * RESULT_BYTES, stream);
        profiler.mark(stream, null);
        copiedBack.mark(stream);
        launches++;
        return resolved;
    }

    /** Reads a launch's copied-back results into {@code out} from {@code outOffset}. */
    private void read(List<Draw> draws, DrawParams[] resolved, SampleResult[] out, int outOffset) {
        for (int i = 0; i < resolved.length; i++) {
            out[outOffset + i] = readResult(i, draws.get(i).row(), resolved[i]);
        }
    }

    /** Masks the rows of constrained draws in place, each row once; a step without constraints does nothing. */
    private void applyMasks(DeviceLogits logits, List<Draw> draws, DrawParams[] resolved) {
        boolean any = false;
        for (DrawParams p : resolved) {
            any |= p.allowedTokens().isPresent();
        }
        if (!any) {
            return;
        }
        Map<Integer, int[]> masks = new LinkedHashMap<>();
        Set<Integer> unmasked = new HashSet<>();
        for (int i = 0; i < resolved.length; i++) {
            int row = draws.get(i).row();
            Optional<int[]> mask = resolved[i].allowedTokens();
            if (mask.isEmpty()) {
                unmasked.add(row);
                continue;
            }
            int[] seen = masks.putIfAbsent(row, mask.get());
            if (seen != null && seen != mask.get() && !Arrays.equals(seen, mask.get())) {
                throw new IllegalArgumentException("draws sharing logits row " + row + " have different "
                        + "structured-output masks; the GPU masks a row in place, once");
            }
        }
        for (int row : masks.keySet()) {
            if (unmasked.contains(row)) {
                throw new IllegalArgumentException("logits row " + row + " has constrained and unconstrained draws");
            }
        }
        profiler.mark(stream, "structured mask");
        bitmask.apply(stream, logits.pointer(), vocabSize, masks.keySet().stream().mapToInt(Integer::intValue)
                .toArray(), masks.values().toArray(new int[0][]));
    }

    private void writeParams(List<Draw> draws, DrawParams[] resolved) {
        ByteBuffer b = paramsHost.buffer();
        int n = resolved.length;
        int adjustment = 0; // index into the launch's concatenated adjustment lists
        for (int i = 0; i < n; i++) {
            DrawParams p = resolved[i];
            LogitAdjustments adjustments = p.adjustments();
            int at = i * PARAMS_BYTES;
            b.putDouble(at, p.topP());
            b.putDouble(at + 8, p.logMinP());
            b.putDouble(at + 16, p.u());
            b.putInt(at + 24, draws.get(i).row());
            b.putFloat(at + 28, p.temperature());
            b.putInt(at + 32, p.topK());
            b.putInt(at + 36, p.logprobs().orElse(-1));
            b.putInt(at + 40, adjustment);
            b.putInt(at + 44, adjustment + adjustments.size());
            b.putFloat(at + 48, adjustments.repetitionPenalty());
            b.putInt(at + 52, 0);
            for (int j = 0; j < adjustments.size(); j++, adjustment++) {
                int a = n * PARAMS_BYTES + adjustment * ADJUSTMENT_BYTES;
                b.putInt(a, adjustments.tokenIds()[j]);
                b.putInt(a + 4, adjustments.repeated()[j] ? 1 : 0);
                b.putFloat(a + 8, adjustments.additive()[j]);
            }
        }
    }

    private SampleResult readResult(int i, int row, DrawParams params) {
        ByteBuffer b = resultsHost.buffer();
        int at = i * RESULT_BYTES;
        int token = b.getInt(at);
        int numLogprobs = b.getInt(at + 4);
        if (token == -1) {
            throw new IllegalArgumentException("cannot sample: the largest logit of logits row " + row
                    + " is not finite after temperature and penalties");
        }
        int expectedLogprobs = params.logprobs().isPresent() ? Math.min(params.logprobs().getAsInt(), vocabSize) : -1;
        if (token < 0 || token >= vocabSize || numLogprobs != expectedLogprobs) {
            throw new IllegalStateException("kd_sample wrote token " + token + " and " + numLogprobs
                    + " logprobs for a draw from row " + row + " (vocab_size " + vocabSize + ", logprobs asked "
                    + expectedLogprobs + ")");
        }
        if (numLogprobs < 0) {
            return SampleResult.of(token);
        }
        List<TokenLogprob> top = new ArrayList<>(numLogprobs);
        for (int j = 0; j < numLogprobs; j++) {
            top.add(new TokenLogprob(b.getInt(at + RESULT_LOGPROB_IDS + j * Integer.BYTES),
                    b.getFloat(at + RESULT_LOGPROBS + j * Float.BYTES)));
        }
        return new SampleResult(token, Optional.of(top));
    }

    /** Grows the parameter buffers (pinned and device) to at least {@code bytes}; the previous launch is done. */
    private void growParams(long bytes) {
        long grown = Math.max(bytes, 2 * params.bytes());
        params.close();
        paramsHost.close();
        params = null;
        paramsHost = null;
        allocateParams(grown);
    }

    private void allocateParams(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sampling parameters of " + bytes + " bytes exceed one pinned buffer"
                    + " (2 GiB): too many penalised tokens in one step");
        }
        paramsHost = PinnedBuffer.allocate((int) bytes);
        params = DeviceBuffer.allocate(bytes);
    }

    /** Fills the result buffer with 0xFF and waits, so a test can tell a written result from a stale one. */
    void poisonResults() {
        results.poison();
        cuCtxSynchronize();
    }

    @Override
    public void close() { // also frees what a failed constructor allocated
        Resources.closeAll(work, results, resultsHost, paramsHost, params, bitmask, copiedBack);
    }
}
