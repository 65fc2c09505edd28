package io.kindling.backend.cpu;

/** {@link PanelKernel} in plain Java loops, for JVMs started without the Vector API module. */
final class ScalarPanelKernel implements PanelKernel {

    private static final int PANEL = 64;
    private static final int K_BLOCK = 256;

    @Override
    public int panelWidth() {
        return PANEL;
    }

    @Override
    public String description() {
        return "scalar loops";
    }

    @Override
    public String toString() {
        return description();
    }

    @Override
    public void accumulate(float[] data, int panelBase, int in, float[] x, int r0, int r1, float[][] acc) {
        float[] w = new float[PANEL];
        for (int k0 = 0; k0 < in; k0 += K_BLOCK) {
            int k1 = Math.min(in, k0 + K_BLOCK);
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                accumulate4(data, panelBase, in, x, r, acc[r - r0], acc[r - r0 + 1], acc[r - r0 + 2], acc[r - r0 + 3],
                        w, k0, k1);
            }
            for (; r < r1; r++) {
                accumulate1(data, panelBase, in, x, r, acc[r - r0], k0, k1);
            }
        }
    }

    // Both perform a[c] = a[c] + x * w[c] per element. Copying the panel row into a scratch array first lets the
    // four-row loop index every array at the same [c], which C2 (JDK 17) needs to vectorize it; with an offset into
    // the weights it cannot rule out aliasing. One row is bound by streaming the weights, where the copy does not pay.
    private static void accumulate4(float[] data, int panelBase, int in, float[] x, int r,
                                    float[] a0, float[] a1, float[] a2, float[] a3, float[] w, int k0, int k1) {
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

    private static void accumulate1(float[] data, int panelBase, int in, float[] x, int r, float[] a, int k0, int k1) {
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
