package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.backend.TensorParallelPlan.Slice;
import io.kindling.backend.WeightShapeException;
import io.kindling.model.ModelConfig;
import io.kindling.model.TensorInfo;
import io.kindling.model.Weights;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The model's parameters on the GPU, uploaded once into one allocation: matrices bf16 {@code [out][in]} as the
 * checkpoint stores them, with q/k/v fused into {@code [qSize + 2 kvSize][h]} (the layout {@code ModelWeights} fuses
 * on the CPU) and gate/up into {@code [2 inter][h]} with their rows interleaved in {@link GateUpOrder}, which the
 * fused SiLU-and-multiply GEMM reads; norm weights bf16; biases (gate_up's too: {@code [gate | up]}) and the RoPE
 * inverse frequencies fp32. Absent optional tensors are null pointers. A tied LM head is the embedding itself.
 *
 * <p>Under tensor parallelism a rank holds its {@link Shard} (vLLM's parallel layers): the q/k/v rows of its heads and
 * the gate/up rows of its MLP features with their biases (column-parallel); the o_proj and down_proj columns of
 * those, without bias (row-parallel: each rank's product is a partial sum, and the bias is added once after the
 * all-reduce, so o_proj's and down_proj's biases are whole); the LM head rows of its vocabulary (a tied head: those
 * rows of the embedding). The embedding and the norms are whole on every rank. A rank of one holds the whole model in
 * the layout above.
 */
final class DeviceWeights implements AutoCloseable {

    /** One decoder layer's pointers into the allocation; biases and q/k norms are null where the model has none. */
    record Layer(CUdeviceptr inputNorm, CUdeviceptr qkv, CUdeviceptr qkvBias, CUdeviceptr qNorm, CUdeviceptr kNorm,
                 CUdeviceptr o, CUdeviceptr oBias, CUdeviceptr postAttentionNorm, CUdeviceptr gateUp,
                 CUdeviceptr gateUpBias, CUdeviceptr down, CUdeviceptr downBias) {
    }

    /** Suballocations start at this alignment: what the kernels' vector loads want. */
    private static final long ALIGN = 256;
    /** Largest piece staged through pinned memory at once; a bigger tensor goes in pieces. */
    private static final int STAGING_BYTES = 64 << 20;

    final CUdeviceptr embedding;
    final CUdeviceptr lmHead;
    final CUdeviceptr finalNorm;
    final CUdeviceptr invFreq;
    final List<Layer> layers;
    private final DeviceBuffer memory;

    private DeviceWeights(DeviceBuffer memory, CUdeviceptr embedding, CUdeviceptr lmHead, CUdeviceptr finalNorm,
                          CUdeviceptr invFreq, List<Layer> layers) {
        this.memory = memory;
        this.embedding = embedding;
        this.lmHead = lmHead;
        this.finalNorm = finalNorm;
        this.invFreq = invFreq;
        this.layers = layers;
    }

    /** Bytes on the device. */
    long bytes() {
        return memory.bytes();
    }

    /**
     * Checks every tensor's shape against the config, then uploads one tensor at a time (converted to bf16 by
     * {@link Weights#readBf16} where the checkpoint holds another type), of each the slice that {@code shard} holds.
     *
     * @throws WeightShapeException when a tensor disagrees with {@code config.json}
     */
    static DeviceWeights upload(ModelConfig config, Weights weights, Shard shard) {
        Plan plan = new Plan(weights);
        int h = config.hiddenSize();
        int q = config.qSize();
        int kv = config.kvSize();
        int inter = config.intermediateSize();
        Slice qRows = shard.queryHeads().times(config.headDim());
        Slice kvRows = shard.kvHeads().times(config.headDim());
        Slice features = shard.intermediate();
        Part embedding = plan.matrix("model.embed_tokens.weight", "vocab_size, hidden_size", config.vocabSize(), h);
        Part lmHead = config.tieWordEmbeddings() ? null : plan.rows(List.of(plan.tensor("lm_head.weight",
                "vocab_size, hidden_size", config.vocabSize(), h).rows(shard.vocab())));
        Part finalNorm = plan.vector("model.norm.weight", "hidden_size", h);
        Part invFreq = plan.values(config.rope().inverseFrequencies(config.headDim()));
        List<LayerParts> layerParts = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String attn = "model.layers." + i + ".self_attn.";
            String mlp = "model.layers." + i + ".mlp.";
            String heads = "num_attention_heads * head_dim";
            String kvHeads = "num_key_value_heads * head_dim";
            layerParts.add(new LayerParts(
                    plan.vector("model.layers." + i + ".input_layernorm.weight", "hidden_size", h),
                    plan.rows(List.of(
                            plan.tensor(attn + "q_proj.weight", heads + ", hidden_size", q, h).rows(qRows),
                            plan.tensor(attn + "k_proj.weight", kvHeads + ", hidden_size", kv, h).rows(kvRows),
                            plan.tensor(attn + "v_proj.weight", kvHeads + ", hidden_size", kv, h).rows(kvRows))),
                    plan.biases(plan.bias(attn + "q_proj.bias", heads, q, qRows),
                            plan.bias(attn + "k_proj.bias", kvHeads, kv, kvRows),
                            plan.bias(attn + "v_proj.bias", kvHeads, kv, kvRows)),
                    config.qkNorm() ? plan.vector(attn + "q_norm.weight", "head_dim", config.headDim()) : null,
                    config.qkNorm() ? plan.vector(attn + "k_norm.weight", "head_dim", config.headDim()) : null,
                    plan.rows(List.of(plan.tensor(attn + "o_proj.weight", "hidden_size, " + heads, h, q)
                            .columns(qRows))),
                    // Llama's attention_bias and mlp_bias also put biases on o_proj and the MLP
                    plan.biases(plan.bias(attn + "o_proj.bias", "hidden_size", h, new Slice(0, h))),
                    plan.vector("model.layers." + i + ".post_attention_layernorm.weight", "hidden_size", h),
                    plan.gateUpRows(
                            plan.tensor(mlp + "gate_proj.weight", "intermediate_size, hidden_size", inter, h)
                                    .rows(features),
                            plan.tensor(mlp + "up_proj.weight", "intermediate_size, hidden_size", inter, h)
                                    .rows(features), h),
                    plan.biases(plan.bias(mlp + "gate_proj.bias", "intermediate_size", inter, features),
                            plan.bias(mlp + "up_proj.bias", "intermediate_size", inter, features)),
                    plan.rows(List.of(plan.tensor(mlp + "down_proj.weight", "hidden_size, intermediate_size", h,
                            inter).columns(features))),
                    plan.biases(plan.bias(mlp + "down_proj.bias", "hidden_size", h, new Slice(0, h)))));
        }
        DeviceBuffer memory = DeviceBuffer.allocate(plan.bytes);
        try (PinnedBuffer staging = PinnedBuffer.allocate((int) Math.min(STAGING_BYTES, plan.largestTensor))) {
            for (Part part : plan.parts) {
                part.upload(memory, staging, weights);
            }
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
        List<Layer> layers = new ArrayList<>();
        for (LayerParts p : layerParts) {
            layers.add(p.in(memory));
        }
        // a tied head's vocabulary rows are consecutive rows of the embedding
        CUdeviceptr head = lmHead != null ? at(memory, lmHead)
                : memory.at(embedding.offset + 2L * shard.vocab().start() * h);
        return new DeviceWeights(memory, at(memory, embedding), head, at(memory, finalNorm), at(memory, invFreq),
                layers);
    }

    private static CUdeviceptr at(DeviceBuffer memory, Part part) {
        return part == null ? null : memory.at(part.offset);
    }

    @Override
    public void close() {
        memory.close();
    }

    /** A bias of {@code length} values (a rank's slice), null when the checkpoint has none. */
    private record Bias(float[] values, int length) {
    }

    private record LayerParts(Part inputNorm, Part qkv, Part qkvBias, Part qNorm, Part kNorm, Part o, Part oBias,
                              Part postAttentionNorm, Part gateUp, Part gateUpBias, Part down, Part downBias) {

        Layer in(DeviceBuffer memory) {
            return new Layer(at(memory, inputNorm), at(memory, qkv), at(memory, qkvBias), at(memory, qNorm),
                    at(memory, kNorm), at(memory, o), at(memory, oBias), at(memory, postAttentionNorm),
                    at(memory, gateUp), at(memory, gateUpBias), at(memory, down), at(memory, downBias));
        }
    }

    /**
     * One region of the allocation: bf16 tensors laid out row after row (or, for gate_up, interleaved in
     * {@link GateUpOrder}: then {@code gateUpRowBytes} is the row length in bytes, else 0), or fp32 values (biases,
     * with zeros for an absent part, and computed tables).
     */
    private static final class Part {
        final long offset;
        final List<TensorSlice> bf16Rows;
        final int gateUpRowBytes;
        final float[] fp32;

        Part(long offset, List<TensorSlice> bf16Rows, int gateUpRowBytes, float[] fp32) {
            this.offset = offset;
            this.bf16Rows = bf16Rows;
            this.gateUpRowBytes = gateUpRowBytes;
            this.fp32 = fp32;
        }

        void upload(DeviceBuffer memory, PinnedBuffer staging, Weights weights) {
            if (fp32 != null) {
                cuMemcpyHtoD(memory.at(offset), Pointer.to(fp32), (long) fp32.length * Float.BYTES);
                return;
            }
            Stager stager = new Stager(memory, offset, staging);
            if (gateUpRowBytes > 0) { // gate and up interleave: both read at once (their rank's rows are one run)
                TensorSlice gate = bf16Rows.get(0);
                TensorSlice up = bf16Rows.get(1);
                GateUpOrder.forEachGroup(gate.run(read(weights, gate)), up.run(read(weights, up)), gateUpRowBytes,
                        stager::put);
            } else { // one tensor read at a time: a converted (fp16, fp32) checkpoint's copies need not coexist
                for (TensorSlice t : bf16Rows) {
                    t.forEachRun(read(weights, t), stager::put);
                }
            }
            stager.flush();
        }

        private static ByteBuffer read(Weights weights, TensorSlice t) {
            ByteBuffer src = weights.readBf16(t.name());
            if (src.remaining() != 2L * t.rows() * t.cols()) {
                throw new IllegalStateException("tensor " + t.name() + " read " + src.remaining()
                        + " bf16 bytes, its shape holds " + (long) t.rows() * t.cols() + " elements");
            }
            return src;
        }
    }

    /** Copies bytes to the device from byte {@code at} on, in order, gathered in pinned memory into large copies. */
    private static final class Stager {
        private final DeviceBuffer memory;
        private final PinnedBuffer staging;
        private final ByteBuffer pinned;
        private long at;

        Stager(DeviceBuffer memory, long at, PinnedBuffer staging) {
            this.memory = memory;
            this.at = at;
            this.staging = staging;
            this.pinned = staging.buffer().clear();
        }

        /** Appends {@code src}'s remaining bytes (its position does not move). */
        void put(ByteBuffer src) {
            ByteBuffer rest = src.slice();
            while (rest.hasRemaining()) {
                int piece = Math.min(rest.remaining(), pinned.remaining());
                pinned.put(rest.slice().limit(piece));
                rest.position(rest.position() + piece);
                if (!pinned.hasRemaining()) {
                    flush();
                }
            }
        }

        /** Copies what is gathered. */
        void flush() {
            int bytes = pinned.position();
            if (bytes > 0) {
                // synchronous from pinned memory: the next bytes may overwrite the staging buffer at once
                cuMemcpyHtoD(memory.at(at), staging.pointer(), bytes);
                at += bytes;
                pinned.clear();
            }
        }
    }

    /** Checks shapes and lays the parts out before anything is allocated. */
    private static final class Plan {
        final Weights weights;
        final List<Part> parts = new ArrayList<>();
        long bytes;
        long largestTensor = 1;

        Plan(Weights weights) {
            this.weights = weights;
        }

        /** The whole tensor, its shape checked; a rank narrows it to its rows or columns. */
        TensorSlice tensor(String name, String derivation, int... shape) {
            TensorInfo info = weights.info(name);
            long[] expected = Arrays.stream(shape).asLongStream().toArray();
            if (!Arrays.equals(info.shape(), expected)) {
                throw new WeightShapeException(name, expected, info.shape(), derivation);
            }
            largestTensor = Math.max(largestTensor, info.numElements() * 2);
            return shape.length == 1 ? TensorSlice.whole(name, 1, shape[0]) : TensorSlice.whole(name, shape[0],
                    shape[1]);
        }

        /** Read now, in fp32: biases are small, and fused ones are concatenated on the host. */
        Bias bias(String name, String derivation, int length, Slice slice) {
            if (!weights.contains(name)) {
                return new Bias(null, slice.size());
            }
            tensor(name, derivation, length);
            return new Bias(Arrays.copyOfRange(weights.readFloats(name), slice.start(), slice.end()), slice.size());
        }

        Part matrix(String name, String derivation, int rows, int cols) {
            return rows(List.of(tensor(name, derivation, rows, cols)));
        }

        Part vector(String name, String derivation, int length) {
            return rows(List.of(tensor(name, derivation, length)));
        }

        Part rows(List<TensorSlice> tensors) {
            return rows(tensors, 0);
        }

        /** A rank's gate_proj and up_proj rows ({@code [features][h]} each), interleaved in {@link GateUpOrder}. */
        Part gateUpRows(TensorSlice gate, TensorSlice up, int h) {
            return rows(List.of(gate, up), h * 2);
        }

        private Part rows(List<TensorSlice> tensors, int gateUpRowBytes) {
            long elements = tensors.stream().mapToLong(TensorSlice::numElements).sum();
            return add(new Part(bytes, tensors, gateUpRowBytes, null), elements * 2);
        }

        Part values(float[] values) {
            return add(new Part(bytes, null, 0, values), (long) values.length * Float.BYTES);
        }

        /** The fused bias of parts laid end to end, zeros where one part has none; null when none has one. */
        Part biases(Bias... pieces) {
            if (Arrays.stream(pieces).allMatch(b -> b.values() == null)) {
                return null;
            }
            float[] fused = new float[Arrays.stream(pieces).mapToInt(Bias::length).sum()];
            int at = 0;
            for (Bias b : pieces) {
                if (b.values() != null) {
                    System.arraycopy(b.values(), 0, fused, at, b.length());
                }
                at += b.length();
            }
            return values(fused);
        }

        private Part add(Part part, long partBytes) {
            parts.add(part);
            bytes += (partBytes + ALIGN - 1) / ALIGN * ALIGN;
            return part;
        }
    }
}
