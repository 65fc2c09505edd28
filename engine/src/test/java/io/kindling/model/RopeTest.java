package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * Inverse frequencies for head_dim 8 and theta 10000 are 10000^(-i/4) = 1, 0.1, 0.01, 0.001; the expected
 * values below are worked out by hand from those.
 */
class RopeTest {

    private static final float TOLERANCE = 1e-7f;

    @Test
    void defaultIsThetaToTheMinusTwoIOverD() {
        assertArrayEquals(new float[] {1f, 0.1f, 0.01f, 0.001f}, Rope.standard(10000).inverseFrequencies(8), TOLERANCE);
    }

    @Test
    void linearDividesEveryFrequency() {
        Rope rope = new Rope(10000, "linear", 4, 0, 0, 0);
        assertArrayEquals(new float[] {0.25f, 0.025f, 0.0025f, 0.00025f}, rope.inverseFrequencies(8), TOLERANCE);
    }

    /**
     * With original context 64, low/high frequency factors 1/4 the wavelength bounds are 64 and 16. Wavelengths
     * 2*pi/f are 6.28 (kept), 62.83 (smoothed), 628 and 6283 (divided by the factor 8). The smoothed one:
     * s = (64 / 62.83 - 1) / (4 - 1) = 0.0061972, f = (1 - s) * 0.1 / 8 + s * 0.1 = 0.0130423.
     */
    @Test
    void llama3KeepsHighDividesLowAndSmoothsTheMiddle() {
        Rope rope = new Rope(10000, "llama3", 8, 1, 4, 64);
        assertArrayEquals(new float[] {1f, 0.013042256f, 0.00125f, 0.000125f}, rope.inverseFrequencies(8), TOLERANCE);
    }
}
