package io.kindling.cuda;

import io.kindling.backend.Draw;
import io.kindling.backend.SampleResult;
import io.kindling.cuda.SamplerGpuTest.Mode;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code kd_sample} at a decode step's size: 256 draws, each over its own row of the Llama 3 vocabulary (128,256
 * random logits, uniform in [-4, 4) with a few far above), in the sampling modes a bench or a user asks for. Each
 * launch is timed as the step profile times it (the sampler's own marks behind {@code kd_spin}): the parameters'
 * upload and the kernel, then the results' copy back. Median of 15, microseconds, and the rows' bytes over the
 * kernel's time (one read of every row).
 *
 * <p>Arguments: fatbins of other builds of sampling.cu to time beside this jar's ({@code --fatbin PATH}, repeatable),
 * e.g. the previous commit's, so that a change is measured against its baseline in the same run.
 */
public final class SamplerBench {

    private static final int DRAWS = 256;
    private static final int VOCAB = 128_256;
    private static final int REPEATS = 15;

    private static final List<Mode> MODES = List.of(
            new Mode("greedy", SamplingParams.greedy(16)),
            new Mode("t=1", SamplingParams.builder().maxTokens(16).temperature(1).build()),
            new Mode("t=0.7", SamplingParams.builder().maxTokens(16).temperature(0.7).build()),
            new Mode("t=1,p=0.9", SamplingParams.builder().maxTokens(16).temperature(1).topP(0.9).build()),
            new Mode("t=0.8,k=50", SamplingParams.builder().maxTokens(16).temperature(0.8).topK(50).build()),
            new Mode("t=1,logprobs=1", SamplingParams.builder().maxTokens(16).temperature(1).logprobs(1).build()));

    private SamplerBench() {
    }

    public static void main(String[] args) throws IOException {
        List<String> names = new ArrayList<>(List.of("this jar"));
        List<byte[]> images = new ArrayList<>();
        images.add(null);
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals("--fatbin") || i + 1 == args.length) {
                throw new IllegalArgumentException("usage: SamplerBench [--fatbin PATH]..., got " + Arrays.toString(args));
            }
            names.add(args[++i]);
            images.add(Files.readAllBytes(Path.of(args[i])));
        }
        try (CudaContext context = CudaContext.create(0);
             DeviceBuffer logits = DeviceBuffer.allocate((long) DRAWS * VOCAB * Float.BYTES).copyFrom(rows())) {
            System.out.printf("kd_sample, %d draws over %d rows of %d logits, %s; us per launch (rows' GB/s)%n", DRAWS,
                    DRAWS, VOCAB, context.deviceName());
            StringBuilder header = new StringBuilder(String.format("%-16s", "mode"));
            for (String name : names) {
                header.append(String.format(" | %-26s", "sampling.cu of " + Path.of(name).getFileName()));
            }
            System.out.println(header.append(" | copy back"));
            SamplerGpuTest.DeviceRows device = new SamplerGpuTest.DeviceRows(logits, DRAWS, VOCAB);
            for (Mode mode : MODES) {
                StringBuilder row = new StringBuilder(String.format("%-16s", mode.name()));
                double copyBack = 0;
                for (byte[] image : images) {
                    KernelModule module = image == null ? KernelModule.load("sampling")
                            : KernelModule.fromImage("sampling", image);
                    double[] micros = time(context, module, device, draws(mode.params()));
                    row.append(String.format(" | %9.1f us (%5.0f GB/s)    ", micros[0],
                            (double) DRAWS * VOCAB * Float.BYTES / micros[0] / 1e3));
                    copyBack = micros[1];
                }
                System.out.println(row.append(String.format(" | %.1f us", copyBack)));
            }
        }
    }

    /** Median microseconds of the sampling launch and of its copy back. */
    private static double[] time(CudaContext context, KernelModule module, SamplerGpuTest.DeviceRows logits,
            List<Draw> draws) {
        OpProfiler profiler = new OpProfiler(KernelModule.load("profile"));
        try (profiler; GpuSampler sampler = new GpuSampler(module, KernelModule.load("token_bitmask"),
                context.stream(), profiler, DRAWS, VOCAB)) {
            sampler.sample(logits, draws);  // warm-up
            double[] sampling = new double[REPEATS];
            double[] copyBack = new double[REPEATS];
            SampleResult[] results = new SampleResult[draws.size()];
            for (int r = 0; r < REPEATS; r++) {
                profiler.arm();
                profiler.begin(context.stream());
                sampler.launch(logits, draws);
                sampler.awaitLaunched(results);
                Map<String, Double> millis = profiler.finish();
                sampling[r] = millis.get("sampling") * 1e3;
                copyBack[r] = millis.get("copy back") * 1e3;
            }
            Arrays.sort(sampling);
            Arrays.sort(copyBack);
            return new double[] {sampling[REPEATS / 2], copyBack[REPEATS / 2]};
        }
    }

    private static List<Draw> draws(SamplingParams params) {
        List<Draw> draws = new ArrayList<>();
        for (int i = 0; i < DRAWS; i++) {
            draws.add(new Draw(i, new SamplingState(params.toBuilder().seed(i).build(), new int[] {1}, new int[0], 0)));
        }
        return draws;
    }

    private static float[] rows() {
        float[] values = new float[DRAWS * VOCAB];
        for (int r = 0; r < DRAWS; r++) {
            float[] row = CudaTestSupport.randomFloats(VOCAB, 7L * r + 1, 4f);
            for (int s = 0; s < 8; s++) {
                row[(int) ((r * 7919L + s * 104_729L) % VOCAB)] = 10f + s;
            }
            System.arraycopy(row, 0, values, r * VOCAB, VOCAB);
        }
        return values;
    }
}
