package io.kindling.backend;

import java.util.List;

/**
 * A linear layer's weight {@code [out, in]} stored transposed in panels of {@link #PANEL} output features:
 * panel p holds {@code W[p*PANEL .. p*PANEL+PANEL)[0 .. in)} as {@code [in][PANEL]}, zero-padded past {@code out}.
 *
 * <p>{@code y = x W^T (+ b)} is computed as axpy updates {@code acc[c] += x[i] * panel[i][c]}, i ascending: plain
 * loops over contiguous arrays that C2 vectorizes, and each output element is always the same sequence of
 * float operations, whatever the number of rows, the row grouping or the thread count. A panel chunk is
 * streamed once for a group of four rows, so a batched step reads the weights far fewer times than one row.
 */
final class PackedMatrix {

    static final int PANEL = 64;
    private static final int ROW_TILE = 64;
    private static final int K_BLOCK = 256;

    private final int in;
    private final int out;
    private final int panels;
    private final float[] data;
    private final float[] bias;

    private PackedMatrix(int in, int out, float[] data, float[] bias) {
        this.in = in;
        this.out = out;
        this.panels = (out + PANEL - 1) / PANEL;
        this.data = data;
        this.bias = bias;
    }

    /**
     * Packs row-major weights {@code [out_j, in]} stacked along the output dimension (fused q/k/v, gate/up).
     *
     * @param biases one per part, each null or of length {@code out_j}; all null means no bias
     */
    static PackedMatrix pack(int in, List<float[]> parts, List<float[]> biases) {
        int out = 0;
        for (float[] part : parts) {
            out += part.length / in;
        }
        int panels = (out + PANEL - 1) / PANEL;
        long size = (long) panels * PANEL * in;
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
                int base = (row / PANEL) * in * PANEL + row % PANEL;
                for (int i = 0; i < in; i++) {
                    data[base + i * PANEL] = part[o * in + i];
                }
            }
            if (biases.get(j) != null) {
                System.arraycopy(biases.get(j), 0, bias, row - partOut, partOut);
            }
        }
        return new PackedMatrix(in, out, data, bias);
    }

    int in() {
        return in;
    }

    int out() {
        return out;
    }

    /** Copies row {@code o} of the original {@code [out, in]} matrix (a tied embedding's row) into {@code dst}. */
    void copyRow(int o, float[] dst, int dstOffset) {
        int base = (o / PANEL) * in * PANEL + o % PANEL;
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = data[base + i * PANEL];
        }
    }

    /** {@code y[r] = x[r] W^T + b} for {@code rows} rows of {@code x [rows, in]}, into {@code y [rows, out]}. */
    void multiply(float[] x, int rows, float[] y, CpuThreads threads) {
        int rowTiles = (rows + ROW_TILE - 1) / ROW_TILE;
        threads.parallelFor(panels * rowTiles, task -> multiplyTile(x, y, task % panels, task / panels, rows));
    }

    private void multiplyTile(float[] x, float[] y, int panel, int rowTile, int rows) {
        int r0 = rowTile * ROW_TILE;
        int r1 = Math.min(rows, r0 + ROW_TILE);
        float[][] acc = new float[r1 - r0][PANEL];
        float[] w = new float[PANEL];
        int panelBase = panel * in * PANEL;
        for (int k0 = 0; k0 < in; k0 += K_BLOCK) {
            int k1 = Math.min(in, k0 + K_BLOCK);
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                accumulate4(x, r, acc[r - r0], acc[r - r0 + 1], acc[r - r0 + 2], acc[r - r0 + 3], w, panelBase, k0, k1);
            }
            for (; r < r1; r++) {
                accumulate1(x, r, acc[r - r0], panelBase, k0, k1);
            }
        }
        int col0 = panel * PANEL;
        int width = Math.min(PANEL, out - col0);
        for (int r = r0; r < r1; r++) {
            float[] a = acc[r - r0];
            int dst = r * out + col0;
            if (bias == null) {
                System.arraycopy(a, 0, y, dst, width);
            } else {
                for (int c = 0; c < width; c++) {
                    y[dst + c] = a[c] + bias[col0 + c];
                }
            }
        }
    }

    // accumulate4 and accumulate1 perform the same operation per element: a[c] = a[c] + x * w[c]. Copying the
    // panel row into a scratch array first lets the four-row loop index every array at the same [c], which C2
    // (JDK 17) needs to vectorize it; with an offset into the weights it cannot rule out aliasing. One row is
    // bound by streaming the weights, where the copy does not pay.
    private void accumulate4(float[] x, int r, float[] a0, float[] a1, float[] a2, float[] a3, float[] w,
                             int panelBase, int k0, int k1) {
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        for (int i = k0; i < k1; i++) {
            float v0 = x[x0 + i];
            float v1 = x[x1 + i];
            float v2 = x[x2 + i];
            float v3 = x[x3 + i];
            System.arraycopy(data, panelBase + i * PANEL, w, 0, PANEL);
            for (int c = 0; c < PANEL; c++) {
                float wc = w[c];
                a0[c] += v0 * wc;
                a1[c] += v1 * wc;
                a2[c] += v2 * wc;
                a3[c] += v3 * wc;
            }
        }
    }

    private void accumulate1(float[] x, int r, float[] a, int panelBase, int k0, int k1) {
        int x0 = r * in;
        for (int i = k0; i < k1; i++) {
            float v = x[x0 + i];
            int wi = panelBase + i * PANEL;
            for (int c = 0; c < PANEL; c++) {
                a[c] += v * data[wi + c];
            }
        }
    }
}
