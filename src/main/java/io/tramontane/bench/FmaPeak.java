package io.tramontane.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 FMA peak: each thread runs twelve independent vector FMA chains in registers. Twelve chains
 * cover an FMA latency of 4-6 cycles on two pipes, so the loop is bound by FMA issue rate, the limit
 * a well-blocked prefill matmul can approach. Each FMA counts as two flops per lane.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;
    private static final double TARGET_SECONDS = 0.25;

    private FmaPeak() {}

    static int vectorBits() {
        return SPECIES.vectorBitSize();
    }

    /** Best of {@code runs}, in flops per second, with the iteration count calibrated to about a quarter second. */
    static double measure(int threads, int runs) {
        double[] sink = new double[threads];
        int probe = 1 << 20;
        ThreadTeam.time(threads, (i, n) -> chains(probe), sink);  // compiles the loop
        long probeNanos = ThreadTeam.time(threads, (i, n) -> chains(probe), sink);
        int iterations = (int) Math.min(Integer.MAX_VALUE, Math.max(probe, probe * TARGET_SECONDS / (probeNanos * 1e-9)));
        long best = Long.MAX_VALUE;
        for (int r = 0; r < runs; r++) best = Math.min(best, ThreadTeam.time(threads, (i, n) -> chains(iterations), sink));
        double flops = 2.0 * CHAINS * SPECIES.length() * (double) iterations * threads;
        return flops / (best * 1e-9);
    }

    /** x = x * m + c converges to c / (1 - m) = 1: no overflow, no denormals, whatever the count. */
    private static double chains(int iterations) {
        FloatVector m = FloatVector.broadcast(SPECIES, 0.999f), c = FloatVector.broadcast(SPECIES, 0.001f);
        FloatVector a0 = FloatVector.broadcast(SPECIES, 0f), a1 = a0.add(0.1f), a2 = a0.add(0.2f), a3 = a0.add(0.3f);
        FloatVector a4 = a0.add(0.4f), a5 = a0.add(0.5f), a6 = a0.add(0.6f), a7 = a0.add(0.7f);
        FloatVector a8 = a0.add(0.8f), a9 = a0.add(0.9f), a10 = a0.add(1.1f), a11 = a0.add(1.2f);
        for (int i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
