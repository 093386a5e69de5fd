package io.tramontane.backend;

/**
 * How tensor-parallel ranks exchange activations: in-process for the CPU backend, NCCL on GPUs.
 * Every rank calls each operation in the same order; calls block until all ranks have arrived.
 */
public interface Collective {
    int ranks();

    int rank();

    /** {@code data[0 .. length)} summed over all ranks, in rank order (deterministic). */
    void allReduceSum(float[] data, int length);

    /**
     * Every rank contributes {@code part[0 .. partLength)}; {@code whole} receives all parts in rank order
     * (parts may have different lengths). Returns the total length.
     */
    int allGather(float[] part, int partLength, float[] whole);

    /** The single-rank collective: nothing to exchange. */
    Collective SINGLE = new Collective() {
        @Override
        public int ranks() {
            return 1;
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public void allReduceSum(float[] data, int length) {}

        @Override
        public int allGather(float[] part, int partLength, float[] whole) {
            System.arraycopy(part, 0, whole, 0, partLength);
            return partLength;
        }
    };
}
