package io.kindling.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;

/**
 * Seeded random bf16 weights for the tensors a config implies, for benchmarks: RMSNorm scales are 1, every
 * other element is uniform with mean 0 and standard deviation {@code std} (0.02 by default, transformers'
 * {@code initializer_range}). Nothing is stored: a tensor is generated when read, in parallel, straight into
 * its bf16 buffer (an 8B shape is 16 GB). Element {@code i} of a tensor is a hash of (seed, tensor name,
 * {@code i}), so the values do not depend on the thread count or on the order tensors are read in.
 */
public final class RandomWeights implements Weights {

    public static final float DEFAULT_STD = 0.02f;

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    /** Where the shape came from, named by load errors. */
    private final Path source;
    private final Map<String, long[]> shapes;
    private final long seed;
    /** Half the width of the uniform range: std * sqrt(3). */
    private final float halfWidth;
    private final ForkJoinPool pool;

    RandomWeights(Path source, ModelConfig config, long seed, float std, int numThreads) {
        if (!(std >= 0 && std < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("std must be finite and >= 0, got " + std);
        }
        this.source = source;
        this.shapes = Collections.unmodifiableMap(new LinkedHashMap<>(ExpectedTensors.of(config)));
        this.seed = seed;
        this.halfWidth = (float) (std * Math.sqrt(3));
        this.pool = new ForkJoinPool(numThreads);
    }

    /** Weights for {@code config} (read from {@code source}) with the default std, on all cores. */
    public static RandomWeights of(Path source, ModelConfig config, long seed) {
        return new RandomWeights(source, config, seed, DEFAULT_STD, Runtime.getRuntime().availableProcessors());
    }

    @Override
    public Set<String> names() {
        return shapes.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return new TensorInfo(name, DType.BF16, shape(name).clone());
    }

    @Override
    public float[] readFloats(String name) {
        long count = info(name).numElements();
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelLoadException(source, "tensor " + name + " has " + count
                    + " elements, more than one Java array holds");
        }
        float[] out = new float[(int) count];
        Generator generator = generator(name);
        ParallelChunks.run(pool, count, (from, to) -> generator.fill(out, (int) from, (int) to));
        return out;
    }

    @Override
    public ByteBuffer readBf16(String name) {
        long count = info(name).numElements();
        if (count > (Integer.MAX_VALUE - 8) / 2) {
            throw new ModelLoadException(source, "tensor " + name + " has " + count
                    + " elements, more than one 2 GB buffer holds in bf16");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) count * 2).order(ByteOrder.LITTLE_ENDIAN);
        Generator generator = generator(name);
        ParallelChunks.run(pool, count, (from, to) -> generator.fill(out, (int) from, (int) to));
        return out.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private long[] shape(String name) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new ModelLoadException(source, "no tensor named " + name + " in this model's shape");
        }
        return shape;
    }

    private Generator generator(String name) {
        long stream = mix(seed ^ mix(fnv1a(name)));
        boolean rmsNormScale = name.endsWith("norm.weight");
        return rmsNormScale ? new Generator(stream, 1.0f, 0.0f) : new Generator(stream, 0.0f, halfWidth);
    }

    /**
     * One tensor's elements, uniform in [center - halfWidth, center + halfWidth) and rounded to bf16. Elements
     * {@code 2j} and {@code 2j + 1} come from the high and low 24 bits of {@code mix(stream + j * golden)}
     * (SplittableRandom's counter-based construction). Fills start at even elements (chunk boundaries).
     */
    private record Generator(long stream, float center, float halfWidth) {

        void fill(ByteBuffer out, int from, int to) {
            for (int i = from; i < to; i += 2) {
                int pair = pair(i >> 1);
                if (i + 1 < to) {
                    out.putInt(2 * i, pair);  // elements i and i + 1, little-endian
                } else {
                    out.putShort(2 * i, (short) pair);
                }
            }
        }

        void fill(float[] out, int from, int to) {
            for (int i = from; i < to; i += 2) {
                int pair = pair(i >> 1);
                out[i] = HalfFloats.bf16ToFloat((short) pair);
                if (i + 1 < to) {
                    out[i + 1] = HalfFloats.bf16ToFloat((short) (pair >>> 16));
                }
            }
        }

        /** Elements 2j (low 16 bits) and 2j + 1 (high 16 bits). */
        private int pair(long j) {
            long bits = mix(stream + j * GOLDEN_GAMMA);
            short even = bf16((int) (bits >>> 40));
            short odd = bf16((int) bits & 0xffffff);
            return (even & 0xffff) | (odd << 16);
        }

        private short bf16(int random24) {
            float unit = random24 * 0x1p-24f;
            return HalfFloats.floatToBf16(center + (2 * unit - 1) * halfWidth);
        }
    }

    /** SplitMix64's finalizer: a bijection whose output bits each depend on every input bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static long fnv1a(String name) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return hash;
    }

    @Override
    public void close() {
        pool.shutdown();
    }
}
