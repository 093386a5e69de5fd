package io.tramontane.weights;

/**
 * A linear layer's weight {@code [out, in]} ({@code y = x W^T}) with its FP8 scales.
 *
 * @param weightScale     multiplies the stored weight (1 for unquantized weights)
 * @param activationScale static per-tensor input scale of w8a8 checkpoints, NaN when there is none
 */
public record Linear(Tensor weight, float weightScale, float activationScale) {

    public static Linear of(Tensor weight) {
        return new Linear(weight, 1f, Float.NaN);
    }

    public long outFeatures() {
        return weight.rows();
    }

    public long inFeatures() {
        return weight.cols();
    }

    public boolean hasActivationScale() {
        return !Float.isNaN(activationScale);
    }

    /** Output features {@code [from, to)}: a column-parallel shard. */
    public Linear rowRange(long from, long to) {
        return new Linear(weight.rowRange(from, to), weightScale, activationScale);
    }

    /** Input features {@code [from, to)}: a row-parallel shard. */
    public Linear columnRange(long from, long to) {
        return new Linear(weight.columnRange(from, to), weightScale, activationScale);
    }
}
