package io.kindling.backend.cpu;

/**
 * The all-reduce after a row-parallel projection (o_proj, down_proj): the ranks' partial sums added in rank order,
 * {@code ((p0 + p1) + p2) + ...}, then the layer's bias once, then into the residual stream. The order is fixed, so
 * the result depends neither on the batch nor on the threads; with one rank it is exactly the unsharded layer's
 * {@code x += y + b}.
 */
final class AllReduce {

    private AllReduce() {
    }

    /**
     * @param partials one {@code [numTokens][hidden]} partial sum per rank, in rank order
     * @param bias     {@code [hidden]}, or null
     */
    static void addToResidual(float[] residual, float[][] partials, float[] bias, int hidden) {
        for (int i = 0; i < residual.length; i++) {
            float sum = partials[0][i];
            for (int r = 1; r < partials.length; r++) {
                sum += partials[r][i];
            }
            if (bias != null) {
                sum += bias[i % hidden];
            }
            residual[i] += sum;
        }
    }
}
