package io.kindling.backend.cpu;

import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;

/**
 * A deliberately naive forward pass in double precision, written from the transformers modeling code: the whole
 * sequence recomputed, contiguous K/V, no batching, no paging. The CPU backend is checked against it.
 */
final class ReferenceForward {

    private final ModelConfig c;
    private final MapWeights w;

    ReferenceForward(ModelConfig config, MapWeights weights) {
        this.c = config;
        this.w = weights;
    }

    /** Logits {@code [tokens.length][vocab]} of every position of one sequence. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        int hidden = c.hiddenSize();
        int hd = c.headDim();
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = row(w.get("model.embed_tokens.weight"), tokens[t], hidden);
        }
        double[] invFreq = inverseFrequencies(c.rope(), hd);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], w.get(p + "input_layernorm.weight"));
                q[t] = linear(p + "self_attn.q_proj", h);
                k[t] = linear(p + "self_attn.k_proj", h);
                v[t] = linear(p + "self_attn.v_proj", h);
                for (int head = 0; head < c.numAttentionHeads(); head++) {
                    headNormAndRope(q[t], head, p + "self_attn.q_norm.weight", invFreq, t);
                }
                for (int head = 0; head < c.numKeyValueHeads(); head++) {
                    headNormAndRope(k[t], head, p + "self_attn.k_norm.weight", invFreq, t);
                }
            }
            int group = c.numAttentionHeads() / c.numKeyValueHeads();
            int window = c.slidingWindow().orElse(Integer.MAX_VALUE);
            for (int t = 0; t < n; t++) {
                double[] attn = new double[c.qSize()];
                for (int head = 0; head < c.numAttentionHeads(); head++) {
                    int kvh = head / group;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        if (j <= t - window) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += q[t][head * hd + d] * k[j][kvh * hd + d];
                        }
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int d = 0; d < hd; d++) {
                            attn[head * hd + d] += s[j] / sum * v[j][kvh * hd + d];
                        }
                    }
                }
                double[] o = linear(p + "self_attn.o_proj", attn);
                for (int i = 0; i < hidden; i++) {
                    x[t][i] += o[i];
                }
                double[] h = rmsNorm(x[t], w.get(p + "post_attention_layernorm.weight"));
                double[] gate = linear(p + "mlp.gate_proj", h);
                double[] up = linear(p + "mlp.up_proj", h);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                double[] down = linear(p + "mlp.down_proj", gate);
                for (int i = 0; i < hidden; i++) {
                    x[t][i] += down[i];
                }
            }
        }
        String head = c.tieWordEmbeddings() ? "model.embed_tokens" : "lm_head";
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) {
            logits[t] = matVec(w.get(head + ".weight"), rmsNorm(x[t], w.get("model.norm.weight")), c.vocabSize());
        }
        return logits;
    }

    private void headNormAndRope(double[] x, int head, String normName, double[] invFreq, int pos) {
        int hd = c.headDim();
        int base = head * hd;
        if (c.qkNorm()) {
            double[] part = new double[hd];
            System.arraycopy(x, base, part, 0, hd);
            System.arraycopy(rmsNorm(part, w.get(normName)), 0, x, base, hd);
        }
        int half = hd / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
            double a = x[base + i];
            double b = x[base + i + half];
            x[base + i] = a * Math.cos(angle) - b * Math.sin(angle);
            x[base + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
        }
    }

    /** transformers' _compute_default_rope_parameters and _compute_llama3_parameters, in double. */
    static double[] inverseFrequencies(Rope rope, int headDim) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(rope.theta(), 2.0 * i / headDim);
            if (rope.type().equals("linear")) {
                inv[i] /= rope.factor();
            } else if (rope.type().equals("llama3")) {
                double wavelen = 2 * Math.PI / inv[i];
                double lowWavelen = rope.originalMaxPositionEmbeddings() / rope.lowFreqFactor();
                double highWavelen = rope.originalMaxPositionEmbeddings() / rope.highFreqFactor();
                if (wavelen > lowWavelen) {
                    inv[i] /= rope.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (rope.originalMaxPositionEmbeddings() / wavelen - rope.lowFreqFactor())
                            / (rope.highFreqFactor() - rope.lowFreqFactor());
                    inv[i] = (1 - smooth) * inv[i] / rope.factor() + smooth * inv[i];
                }
            }
        }
        return inv;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * r * weight[i];
        }
        return out;
    }

    private double[] linear(String name, double[] x) {
        float[] weight = w.get(name + ".weight");
        double[] y = matVec(weight, x, weight.length / x.length);
        if (w.contains(name + ".bias")) {
            float[] bias = w.get(name + ".bias");
            for (int i = 0; i < y.length; i++) {
                y[i] += bias[i];
            }
        }
        return y;
    }

    private static double[] matVec(float[] weight, double[] x, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < x.length; i++) {
                y[o] += weight[o * x.length + i] * x[i];
            }
        }
        return y;
    }

    private static double[] row(float[] matrix, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = matrix[r * width + i];
        }
        return out;
    }
}
