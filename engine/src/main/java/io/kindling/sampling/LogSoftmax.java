package io.kindling.sampling;

/**
 * {@code log_softmax} over one row of logits, in the overflow-safe form {@code (logit - max) - log(sum(exp(logit -
 * max)))}. The sum is accumulated in double, so it is at least as accurate as torch's float32 {@code log_softmax}
 * (which sums in float lanes); the two agree to ~1e-6 at a 152k vocab.
 *
 * @param max           the row's largest logit
 * @param shiftedLogSum {@code log(sum(exp(logit - max)))} over the row
 */
public record LogSoftmax(float max, double shiftedLogSum) {

    public static LogSoftmax of(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        return new LogSoftmax(max, Math.log(sum));
    }

    /** The log-probability of a token whose logit is {@code logit}. */
    public float logprob(float logit) {
        return (float) ((logit - max) - shiftedLogSum);
    }

    /** {@code log(sum(exp(logit)))} over the row: what a logit less it is a log-probability. */
    public double logSumExp() {
        return max + shiftedLogSum;
    }
}
