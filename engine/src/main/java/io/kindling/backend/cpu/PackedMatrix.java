package io.kindling.backend.cpu;

import java.util.Collections;
import java.util.List;

/**
 * A linear layer's weight {@code [out, in]} stored transposed in panels of P output features (P from the
 * {@link PanelKernel}): panel p holds {@code W[p*P .. p*P+P)[0 .. in)} as {@code [in][P]}, zero-padded past
 * {@code out}.
 *
 * <p>{@code y = x W^T (+ b)} is computed as updates {@code acc[c] += x[i] * panel[i][c]}, i ascending: each output
 * element is always the same sequence of float operations, whatever the number of rows, the row grouping or the
 * thread count, and no dot product is ever split. Rows are tiled so that a batched step streams each panel once
 * per row tile rather than once per row.
 */
public final class PackedMatrix {

    private static final int ROW_TILE = 64;

    private final PanelKernel kernel;
    private final int panel;
    private final int in;
    private final int out;
    private final int panels;
    private final float[] data;
    private final float[] bias;

    private PackedMatrix(PanelKernel kernel, int in, int out, float[] data, float[] bias) {
        this.kernel = kernel;
        this.panel = kernel.panelWidth();
        this.in = in;
        this.out = out;
        this.panels = (out + panel - 1) / panel;
        this.data = data;
        this.bias = bias;
    }

    /** Bytes of the heap the packed weights and bias take. */
    long heapBytes() {
        return Float.BYTES * ((long) data.length + (bias == null ? 0 : bias.length));
    }

    /**
     * Packs row-major weights {@code [out_j, in]} stacked along the output dimension (fused q/k/v, gate/up).
     *
     * @param biases one per part, each null or of length {@code out_j}; all null means no bias
     */
    static PackedMatrix pack(PanelKernel kernel, int in, List<float[]> parts, List<float[]> biases) {
        int width = kernel.panelWidth();
        int out = 0;
        for (float[] part : parts) {
            out += part.length / in;
        }
        int panels = (out + width - 1) / width;
        long size = (long) panels * width * in;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrix [" + out + ", " + in + "] too large for one float array");
        }
        float[] data = new float[(int) size];
        boolean anyBias = biases.stream().anyMatch(b -> b != null);
        float[] bias = anyBias ? new float[out] : null;
        int row = 0;
        for (int j = 0; j < parts.size(); j++) {
            float[] part = parts.get(j);
            int partOut = part.length / in;
            for (int o = 0; o < partOut; o++, row++) {
                int base = (row / width) * in * width + row % width;
                for (int i = 0; i < in; i++) {
                    data[base + i * width] = part[o * in + i];
                }
            }
            if (biases.get(j) != null) {
                System.arraycopy(biases.get(j), 0, bias, row - partOut, partOut);
            }
        }
        return new PackedMatrix(kernel, in, out, data, bias);
    }

    /**
     * The CPU backend's {@code y = x W^T} (no bias) as one call: the CPU twin that the GPU GEMM's parity test
     * compares against. Packs {@code w [out][in]} and multiplies {@code rows} rows of {@code x [rows][in]} in
     * float32 on {@code numThreads} threads.
     */
    public static float[] multiplyTransposed(float[] x, int rows, float[] w, int out, int in, int numThreads) {
        if (w.length != (long) out * in || x.length < (long) rows * in) {
            throw new IllegalArgumentException("w has " + w.length + " floats for [" + out + ", " + in + "], x has "
                    + x.length + " for [" + rows + ", " + in + "]");
        }
        PackedMatrix matrix = pack(PanelKernel.best(), in, List.of(w), Collections.singletonList(null));
        float[] y = new float[Math.multiplyExact(rows, out)];
        try (CpuThreads threads = new CpuThreads(numThreads)) {
            matrix.multiply(x, rows, y, threads);
        }
        return y;
    }

    /** Copies row {@code o} of the original {@code [out, in]} matrix (a tied embedding's row) into {@code dst}. */
    void copyRow(int o, float[] dst, int dstOffset) {
        int base = (o / panel) * in * panel + o % panel;
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = data[base + i * panel];
        }
    }

    /** {@code y[r] = x[r] W^T + b} for {@code rows} rows of {@code x [rows, in]}, into {@code y [rows, out]}. */
    void multiply(float[] x, int rows, float[] y, CpuThreads threads) {
        multiply(x, rows, y, out, 0, threads);
    }

    /**
     * As {@link #multiply(float[], int, float[], CpuThreads)}, row r's outputs going to {@code y[r * yStride +
     * yColumn ..]}: one tensor-parallel rank's columns of wider rows (its vocabulary's logits), gathered in place.
     */
    void multiply(float[] x, int rows, float[] y, int yStride, int yColumn, CpuThreads threads) {
        int rowTiles = (rows + ROW_TILE - 1) / ROW_TILE;
        threads.parallelFor(panels * rowTiles,
                task -> multiplyTile(x, y, yStride, yColumn, task % panels, task / panels, rows));
    }

    private void multiplyTile(float[] x, float[] y, int yStride, int yColumn, int p, int rowTile, int rows) {
        int r0 = rowTile * ROW_TILE;
        int r1 = Math.min(rows, r0 + ROW_TILE);
        float[][] acc = new float[r1 - r0][panel];
        kernel.accumulate(data, p * in * panel, in, x, r0, r1, acc);
        int col0 = p * panel;
        int width = Math.min(panel, out - col0);
        for (int r = r0; r < r1; r++) {
            float[] a = acc[r - r0];
            int dst = r * yStride + yColumn + col0;
            if (bias == null) {
                System.arraycopy(a, 0, y, dst, width);
            } else {
                for (int c = 0; c < width; c++) {
                    y[dst + c] = a[c] + bias[col0 + c];
                }
            }
        }
    }
}
