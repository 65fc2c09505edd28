package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

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
     * {@link Weights#readBf16} where the checkpoint holds another type).
     *
     * @throws WeightShapeException when a tensor disagrees with {@code config.json}
     */
    static DeviceWeights upload(ModelConfig config, Weights weights) {
        Plan plan = new Plan(weights);
        int h = config.hiddenSize();
        int q = config.qSize();
        int kv = config.kvSize();
        int inter = config.intermediateSize();
        Part embedding = plan.matrix("model.embed_tokens.weight", "vocab_size, hidden_size", config.vocabSize(), h);
        Part lmHead = config.tieWordEmbeddings() ? embedding
                : plan.matrix("lm_head.weight", "vocab_size, hidden_size", config.vocabSize(), h);
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
                            plan.tensor(attn + "q_proj.weight", heads + ", hidden_size", q, h),
                            plan.tensor(attn + "k_proj.weight", kvHeads + ", hidden_size", kv, h),
                            plan.tensor(attn + "v_proj.weight", kvHeads + ", hidden_size", kv, h))),
                    plan.biases(plan.bias(attn + "q_proj.bias", heads, q),
                            plan.bias(attn + "k_proj.bias", kvHeads, kv),
                            plan.bias(attn + "v_proj.bias", kvHeads, kv)),
                    config.qkNorm() ? plan.vector(attn + "q_norm.weight", "head_dim", config.headDim()) : null,
                    config.qkNorm() ? plan.vector(attn + "k_norm.weight", "head_dim", config.headDim()) : null,
                    plan.matrix(attn + "o_proj.weight", "hidden_size, " + heads, h, q),
                    // Llama's attention_bias and mlp_bias also put biases on o_proj and the MLP
                    plan.biases(plan.bias(attn + "o_proj.bias", "hidden_size", h)),
                    plan.vector("model.layers." + i + ".post_attention_layernorm.weight", "hidden_size", h),
                    plan.gateUpRows(
                            plan.tensor(mlp + "gate_proj.weight", "intermediate_size, hidden_size", inter, h),
                            plan.tensor(mlp + "up_proj.weight", "intermediate_size, hidden_size", inter, h), h),
                    plan.biases(plan.bias(mlp + "gate_proj.bias", "intermediate_size", inter),
                            plan.bias(mlp + "up_proj.bias", "intermediate_size", inter)),
                    plan.matrix(mlp + "down_proj.weight", "hidden_size, intermediate_size", h, inter),
                    plan.biases(plan.bias(mlp + "down_proj.bias", "hidden_size", h))));
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
        return new DeviceWeights(memory, at(memory, embedding), at(memory, lmHead), at(memory, finalNorm),
                at(memory, invFreq), layers);
    }

    private static CUdeviceptr at(DeviceBuffer memory, Part part) {
        return part == null ? null : memory.at(part.offset);
    }

    @Override
    public void close() {
        memory.close();
    }

    /** A checkpoint tensor whose shape has been checked. */
    private record Tensor(String name, long numElements) {
    }

    /** A bias of {@code length} values, null when the checkpoint has none. */
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
        final List<Tensor> bf16Rows;
        final int gateUpRowBytes;
        final float[] fp32;

        Part(long offset, List<Tensor> bf16Rows, int gateUpRowBytes, float[] fp32) {
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
            if (gateUpRowBytes > 0) { // gate and up interleave: both read at once
                GateUpOrder.forEachGroup(read(weights, bf16Rows.get(0)), read(weights, bf16Rows.get(1)),
                        gateUpRowBytes, stager::put);
            } else { // one tensor read at a time: a converted (fp16, fp32) checkpoint's copies need not coexist
                for (Tensor t : bf16Rows) {
                    stager.put(read(weights, t));
                }
            }
            stager.flush();
        }

        private static ByteBuffer read(Weights weights, Tensor t) {
            ByteBuffer src = weights.readBf16(t.name());
            if (src.remaining() != t.numElements() * 2) {
                throw new IllegalStateException("tensor " + t.name() + " read " + src.remaining()
                        + " bf16 bytes, its shape holds " + t.numElements() + " elements");
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

        Tensor tensor(String name, String derivation, long... shape) {
            TensorInfo info = weights.info(name);
            if (!Arrays.equals(info.shape(), shape)) {
                throw new WeightShapeException(name, shape, info.shape(), derivation);
            }
            largestTensor = Math.max(largestTensor, info.numElements() * 2);
            return new Tensor(name, info.numElements());
        }

        /** Read now, in fp32: biases are small, and fused ones are concatenated on the host. */
        Bias bias(String name, String derivation, int length) {
            if (!weights.contains(name)) {
                return new Bias(null, length);
            }
            tensor(name, derivation, length);
            return new Bias(weights.readFloats(name), length);
        }

        Part matrix(String name, String derivation, long rows, long cols) {
            return rows(List.of(tensor(name, derivation, rows, cols)));
        }

        Part vector(String name, String derivation, long length) {
            return rows(List.of(tensor(name, derivation, length)));
        }

        Part rows(List<Tensor> tensors) {
            return rows(tensors, 0);
        }

        /** gate_proj's and up_proj's {@code [inter][h]} rows, interleaved in {@link GateUpOrder}. */
        Part gateUpRows(Tensor gate, Tensor up, int h) {
            return rows(List.of(gate, up), h * 2);
        }

        private Part rows(List<Tensor> tensors, int gateUpRowBytes) {
            long elements = tensors.stream().mapToLong(Tensor::numElements).sum();
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
