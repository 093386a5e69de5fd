package io.tramontane.bench.kernels;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What one benchmark operation moves and computes. JMH reports these OPERATIONS counters per second
 * next to the score, so a result reads directly as bytes/s and flops/s: divide by 10^9 for GB/s and
 * GFLOP/s. Every benchmark adds its nominal figures (the minimum a kernel must read and compute),
 * not what a particular implementation happens to touch.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class Traffic {
    public long bytes;
    public long flops;

    public void add(long bytesMoved, long flopsDone) {
        bytes += bytesMoved;
        flops += flopsDone;
    }
}
