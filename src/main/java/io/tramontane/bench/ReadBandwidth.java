package io.tramontane.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming read bandwidth: every thread sums its contiguous slice of an off-heap buffer much larger
 * than the last-level cache with vector loads, which is the access pattern of a decode step reading
 * its weights. Four accumulators keep the adds off the critical path so only memory limits the loop.
 */
final class ReadBandwidth implements AutoCloseable {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final long STEP = 4L * SPECIES.vectorByteSize();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;

    /** Allocating writes every byte, so all pages are really mapped before the first timed pass. */
    ReadBandwidth(long bytes) {
        this.buffer = arena.allocate(bytes / STEP * STEP, 64);
    }

    long bytes() {
        return buffer.byteSize();
    }

    /** Best of {@code runs} passes over the whole buffer by {@code threads} threads, in bytes per second. */
    double measure(int threads, int runs) {
        double[] sink = new double[threads];
        ThreadTeam.time(threads, this::readSlice, sink);  // warm-up: compiles the loop, touches the TLBs
        long best = Long.MAX_VALUE;
        for (int r = 0; r < runs; r++) best = Math.min(best, ThreadTeam.time(threads, this::readSlice, sink));
        return buffer.byteSize() / (best * 1e-9);
    }

    private double readSlice(int index, int count) {
        long steps = buffer.byteSize() / STEP;
        return sum(buffer, steps * index / count * STEP, steps * (index + 1) / count * STEP);
    }

    private static double sum(MemorySegment segment, long from, long to) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        long width = SPECIES.vectorByteSize();
        for (long offset = from; offset < to; offset += STEP) {
            a0 = a0.add(FloatVector.fromMemorySegment(SPECIES, segment, offset, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(SPECIES, segment, offset + width, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(SPECIES, segment, offset + 2 * width, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(SPECIES, segment, offset + 3 * width, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void close() {
        arena.close();
    }
}
