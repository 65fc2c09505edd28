package io.kindling.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PanelKernel} on the Vector API: a panel is four vectors wide and four rows are accumulated at once in
 * sixteen registers, so each weight vector loaded feeds four fused multiply-adds. Lane-wise {@code fma} is exactly
 * defined, so interpreted, C1 and C2 code all produce the same bits.
 */
final class VectorPanelKernel implements PanelKernel {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    private static final int PANEL = 4 * L;
    private static final int K_BLOCK = 512;

    @Override
    public int panelWidth() {
        return PANEL;
    }

    @Override
    public String description() {
        return SPECIES.vectorBitSize() + "-bit vectors";
    }

    @Override
    public String toString() {
        return description();
    }

    @Override
    public void accumulate(float[] data, int panelBase, int in, float[] x, int r0, int r1, float[][] acc) {
        for (int k0 = 0; k0 < in; k0 += K_BLOCK) {
            int k1 = Math.min(in, k0 + K_BLOCK);
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                accumulate4(data, panelBase, in, x, r, acc[r - r0], acc[r - r0 + 1], acc[r - r0 + 2], acc[r - r0 + 3],
                        k0, k1);
            }
            for (; r < r1; r++) {
                accumulate1(data, panelBase, in, x, r, acc[r - r0], k0, k1);
            }
        }
    }

    // Both perform a[c] = fma(x, w[c], a[c]) per element.
    private static void accumulate4(float[] w, int panelBase, int in, float[] x, int r,
                                    float[] a0, float[] a1, float[] a2, float[] a3, int k0, int k1) {
        FloatVector c00 = load(a0, 0);
        FloatVector c01 = load(a0, L);
        FloatVector c02 = load(a0, 2 * L);
        FloatVector c03 = load(a0, 3 * L);
        FloatVector c10 = load(a1, 0);
        FloatVector c11 = load(a1, L);
        FloatVector c12 = load(a1, 2 * L);
        FloatVector c13 = load(a1, 3 * L);
        FloatVector c20 = load(a2, 0);
        FloatVector c21 = load(a2, L);
        FloatVector c22 = load(a2, 2 * L);
        FloatVector c23 = load(a2, 3 * L);
        FloatVector c30 = load(a3, 0);
        FloatVector c31 = load(a3, L);
        FloatVector c32 = load(a3, 2 * L);
        FloatVector c33 = load(a3, 3 * L);
        int x0 = r * in;
        for (int i = k0; i < k1; i++) {
            int wi = panelBase + i * PANEL;
            FloatVector w0 = load(w, wi);
            FloatVector w1 = load(w, wi + L);
            FloatVector w2 = load(w, wi + 2 * L);
            FloatVector w3 = load(w, wi + 3 * L);
            FloatVector v = FloatVector.broadcast(SPECIES, x[x0 + i]);
            c00 = w0.fma(v, c00);
            c01 = w1.fma(v, c01);
            c02 = w2.fma(v, c02);
            c03 = w3.fma(v, c03);
            v = FloatVector.broadcast(SPECIES, x[x0 + in + i]);
            c10 = w0.fma(v, c10);
            c11 = w1.fma(v, c11);
            c12 = w2.fma(v, c12);
            c13 = w3.fma(v, c13);
            v = FloatVector.broadcast(SPECIES, x[x0 + 2 * in + i]);
            c20 = w0.fma(v, c20);
            c21 = w1.fma(v, c21);
            c22 = w2.fma(v, c22);
            c23 = w3.fma(v, c23);
            v = FloatVector.broadcast(SPECIES, x[x0 + 3 * in + i]);
            c30 = w0.fma(v, c30);
            c31 = w1.fma(v, c31);
            c32 = w2.fma(v, c32);
            c33 = w3.fma(v, c33);
        }
        store(a0, c00, c01, c02, c03);
        store(a1, c10, c11, c12, c13);
        store(a2, c20, c21, c22, c23);
        store(a3, c30, c31, c32, c33);
    }

    private static void accumulate1(float[] w, int panelBase, int in, float[] x, int r, float[] a, int k0, int k1) {
        FloatVector c0 = load(a, 0);
        FloatVector c1 = load(a, L);
        FloatVector c2 = load(a, 2 * L);
        FloatVector c3 = load(a, 3 * L);
        int x0 = r * in;
        for (int i = k0; i < k1; i++) {
            int wi = panelBase + i * PANEL;
            FloatVector v = FloatVector.broadcast(SPECIES, x[x0 + i]);
            c0 = load(w, wi).fma(v, c0);
            c1 = load(w, wi + L).fma(v, c1);
            c2 = load(w, wi + 2 * L).fma(v, c2);
            c3 = load(w, wi + 3 * L).fma(v, c3);
        }
        store(a, c0, c1, c2, c3);
    }

    private static FloatVector load(float[] a, int offset) {
        return FloatVector.fromArray(SPECIES, a, offset);
    }

    private static void store(float[] a, FloatVector c0, FloatVector c1, FloatVector c2, FloatVector c3) {
        c0.intoArray(a, 0);
        c1.intoArray(a, L);
        c2.intoArray(a, 2 * L);
        c3.intoArray(a, 3 * L);
    }
}
