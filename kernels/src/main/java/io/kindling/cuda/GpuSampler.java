package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import io.kindling.backend.Logits;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Draw;
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
import java.util.OptionalInt;
import java.util.Set;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * The CUDA backend's {@link BatchSampler}: {@code kd_sample} (sampling.cu), one CTA per draw, over the logits where
 * the forward pass left them. The host resolves each draw's {@link DrawParams} (drawing its uniform from the
 * request's generator, as the CPU does) straight into a pinned buffer, uploads them with the adjustment lists in one
 * copy, and copies back only tokens and logprobs: a draw's token equals the CPU {@code Sampler}'s for the same (row, params) up to
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
 * ids, and {@link #awaitLaunched} waits only for the copy back, not for the step queued after it.
 */
final class GpuSampler implements BatchSampler, AutoCloseable {

    // Byte layouts of sampling.cu's DrawParams, Adjustment and DrawResult (static_asserts there pin them).
    static final int PARAMS_BYTES = 56;
    private static final int PARAMS_ROW = 24;
    private static final int PARAMS_LOGPROBS = 36;
    static final int ADJUSTMENT_BYTES = 12;
    static final int RESULT_BYTES = 168;
    private static final int RESULT_LOGPROB_IDS = 8;
    private static final int RESULT_LOGPROBS = RESULT_LOGPROB_IDS + SamplingParams.MAX_LOGPROBS * Integer.BYTES;
    private static final int THREADS = 1024;
    /** Adjustment entries the first parameter buffer holds per draw; it grows when a batch needs more. */
    private static final int INITIAL_ADJUSTMENTS_PER_DRAW = 256;
    private static final int NONE = -1;

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
    /** The tokens of the last {@link #launch} when it waited for them (it took several launches); else null. */
    private int[] lastTokensOnHost;
    /** The draws of the last {@link #launch} while their results in {@code resultsHost} wait to be awaited, or NONE. */
    private int launchedDraws = NONE;
    /** The results of the last {@link #launch} when it waited for them, until they are awaited; else null. */
    private SampleResult[] launchedOnHost;
    private DeviceBuffer params;
    private PinnedBuffer paramsHost;
    private final ParamsWriter paramsWriter = new ParamsWriter();
    /** The structured-output mask of each draw of the launch being queued, null where the draw has none. */
    private final int[][] masks;

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
        this.masks = new int[maxDraws][];
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
        launchedDraws = NONE; // a launch not awaited yet: its results are overwritten here
        SampleResult[] out = new SampleResult[draws.size()];
        for (int from = 0; from < draws.size(); from += maxDraws) {
            List<Draw> chunk = draws.subList(from, Math.min(draws.size(), from + maxDraws));
            queue(device, chunk, from);
            copiedBack.await();
            read(chunk.size(), out, from);
        }
        lastTokensOnHost = null;
        return out;
    }

    /**
     * Queues the draws and returns; their tokens stay in the device results for {@link #takeSampled}. More draws
     * than one launch holds are sampled now instead, their tokens kept on the host for {@link #resolveOnHost}.
     */
    @Override
    public void launch(Logits logits, List<Draw> draws) {
        launchedOnHost = null;
        if (draws.size() > maxDraws) {
            SampleResult[] results = sample(logits, draws);
            lastTokensOnHost = new int[results.length];
            for (int i = 0; i < results.length; i++) {
                lastTokensOnHost[i] = results[i].tokenId();
            }
            launchedOnHost = results;
            return;
        }
        launchedDraws = NONE;
        queue(deviceLogits(logits), draws, 0);
        lastTokensOnHost = null;
        launchedDraws = draws.size();
    }

    /** Waits for the last launch's copy back and reads its results, which the next launch overwrites. */
    @Override
    public void awaitLaunched(SampleResult[] out) {
        if (launchedOnHost != null) {
            System.arraycopy(launchedOnHost, 0, out, 0, launchedOnHost.length);
            launchedOnHost = null;
            return;
        }
        if (launchedDraws == NONE) {
            throw new IllegalStateException("no launched draws to await: they were awaited, or a later sample "
                    + "overwrote them");
        }
        int n = launchedDraws;
        launchedDraws = NONE;
        copiedBack.await();
        read(n, out, 0);
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
     * Queues one launch over at most {@code maxDraws} draws and the copy back of its results. Waits first for the
     * previous launch's copy back, whose buffers this one rewrites (the engine has awaited it by then).
     */
    private void queue(DeviceLogits logits, List<Draw> draws, int outOffset) {
        int n = draws.size();
        copiedBack.await();
        paramsWriter.start(n);
        for (int i = 0; i < n; i++) {
            Draw draw = draws.get(i);
            if (draw.row() >= logits.numRows()) {
                throw new IllegalArgumentException("draw " + (outOffset + i) + " names logits row " + draw.row()
                        + " of " + logits.numRows());
            }
            paramsWriter.write(draw, outOffset + i);
        }
        applyMasks(logits, draws);
        profiler.mark(stream, "sampling");
        cuMemcpyHtoDAsync(params.ptr(), paramsHost.pointer(), paramsWriter.bytes(), stream);
        Launch.kernel(kernel, stream, n, 1, 1, THREADS, 0, logits.pointer(), vocabSize, params.ptr(),
                params.at(paramsWriter.adjustmentsOffset()), work.ptr(), results.ptr());
        profiler.mark(stream, "copy back");
        cuMemcpyDtoHAsync(resultsHost.pointer(), results.ptr(), (long) n * RESULT_BYTES, stream);
        profiler.mark(stream, null);
        copiedBack.mark(stream);
    }

    /**
     * Reads the {@code n} copied-back results of the last launch into {@code out} from {@code outOffset}; each
     * draw's row and logprobs asked are still in the pinned parameters, which only the next launch rewrites.
     */
    private void read(int n, SampleResult[] out, int outOffset) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = readResult(i);
        }
    }

    /** Masks the rows of constrained draws in place, each row once; a step without constraints does nothing. */
    private void applyMasks(DeviceLogits logits, List<Draw> draws) {
        boolean any = false;
        for (int i = 0; i < draws.size(); i++) {
            any |= masks[i] != null;
        }
        if (!any) {
            return;
        }
        Map<Integer, int[]> rowMasks = new LinkedHashMap<>();
        Set<Integer> unmasked = new HashSet<>();
        for (int i = 0; i < draws.size(); i++) {
            int row = draws.get(i).row();
            int[] mask = masks[i];
            if (mask == null) {
                unmasked.add(row);
                continue;
            }
            int[] seen = rowMasks.putIfAbsent(row, mask);
            if (seen != null && seen != mask && !Arrays.equals(seen, mask)) {
                throw new IllegalArgumentException("draws sharing logits row " + row + " have different "
                        + "structured-output masks; the GPU masks a row in place, once");
            }
        }
        for (int row : rowMasks.keySet()) {
            if (unmasked.contains(row)) {
                throw new IllegalArgumentException("logits row " + row + " has constrained and unconstrained draws");
            }
        }
        profiler.mark(stream, "structured mask");
        bitmask.apply(stream, logits.pointer(), vocabSize, rowMasks.keySet().stream().mapToInt(Integer::intValue)
                .toArray(), rowMasks.values().toArray(new int[0][]));
    }

    /**
     * Writes each draw's parameters, as {@link DrawParams#resolve} hands them over, into the pinned parameter buffer
     * in kd_sample's layout: the launch's fixed-size parameters first, then the draws' adjustment lists one after
     * another. No record per draw: a decode step allocates nothing here.
     */
    private final class ParamsWriter implements DrawParams.Resolved<Void> {

        private int numDraws;
        /** The draw being written: its slot in the launch, its index for messages and its logits row. */
        private int slot;
        private int index;
        private int row;
        /** Adjustment entries written so far, over the launch. */
        private int adjustment;

        void start(int numDraws) {
            this.numDraws = numDraws;
            slot = 0;
            adjustment = 0;
        }

        /** Resolves the draw (taking its uniform) and writes it into the next slot. */
        void write(Draw draw, int index) {
            this.index = index;
            row = draw.row();
            DrawParams.resolve(draw.state(), vocabSize, this);
            slot++;
        }

        long adjustmentsOffset() {
            return (long) numDraws * PARAMS_BYTES;
        }

        /** The bytes written: what the launch uploads. */
        long bytes() {
            return adjustmentsOffset() + (long) adjustment * ADJUSTMENT_BYTES;
        }

        @Override
        public Void accept(float temperature, int topK, double topP, double logMinP, double u, OptionalInt logprobs,
                LogitAdjustments adjustments, Optional<int[]> allowedTokens) {
            if (logprobs.orElse(0) > SamplingParams.MAX_LOGPROBS) {
                throw new IllegalArgumentException("draw " + index + " asks for " + logprobs.getAsInt()
                        + " logprobs; the GPU sampler returns at most " + SamplingParams.MAX_LOGPROBS);
            }
            long end = bytes() + (long) adjustments.size() * ADJUSTMENT_BYTES;
            if (end > params.bytes()) {
                growParams(end, (int) bytes());
            }
            ByteBuffer b = paramsHost.buffer();
            int at = slot * PARAMS_BYTES;
            b.putDouble(at, topP);
            b.putDouble(at + 8, logMinP);
            b.putDouble(at + 16, u);
            b.putInt(at + PARAMS_ROW, row);
            b.putFloat(at + 28, temperature);
            b.putInt(at + 32, topK);
            b.putInt(at + PARAMS_LOGPROBS, logprobs.orElse(-1));
            b.putInt(at + 40, adjustment);
            b.putInt(at + 44, adjustment + adjustments.size());
            b.putFloat(at + 48, adjustments.repetitionPenalty());
            b.putInt(at + 52, 0);
            for (int j = 0; j < adjustments.size(); j++, adjustment++) {
                int a = (int) adjustmentsOffset() + adjustment * ADJUSTMENT_BYTES;
                b.putInt(a, adjustments.tokenIds()[j]);
                b.putInt(a + 4, adjustments.repeated()[j] ? 1 : 0);
                b.putFloat(a + 8, adjustments.additive()[j]);
            }
            masks[slot] = allowedTokens.orElse(null);
            return null;
        }
    }

    private SampleResult readResult(int i) {
        ByteBuffer b = resultsHost.buffer();
        ByteBuffer p = paramsHost.buffer();
        int at = i * RESULT_BYTES;
        int token = b.getInt(at);
        int numLogprobs = b.getInt(at + 4);
        int row = p.getInt(i * PARAMS_BYTES + PARAMS_ROW);
        if (token == -1) {
            throw new IllegalArgumentException("cannot sample: the largest logit of logits row " + row
                    + " is not finite after temperature and penalties");
        }
        int asked = p.getInt(i * PARAMS_BYTES + PARAMS_LOGPROBS);
        int expectedLogprobs = asked < 0 ? -1 : Math.min(asked, vocabSize);
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

    /**
     * Grows the parameter buffers (pinned and device) to at least {@code bytes}, keeping the first {@code written}
     * bytes of the pinned one; the previous launch is done.
     */
    private void growParams(long bytes, int written) {
        long grown = Math.max(bytes, 2 * params.bytes());
        PinnedBuffer writtenHost = paramsHost;
        params.close();
        params = null;
        paramsHost = null;
        try (writtenHost) {
            allocateParams(grown);
            paramsHost.buffer().put(0, writtenHost.buffer(), 0, written);
        }
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
