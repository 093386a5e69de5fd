package io.tramontane.backend;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * Tensor-parallel ranks as threads of one process (the CPU reference for the NCCL path). The group
 * shares one slot per rank; {@link #forRank} hands each rank its view.
 */
public final class InProcessCollective {
    private final int ranks;
    private final CyclicBarrier barrier;
    private final float[][] slots;
    private final int[] lengths;

    public InProcessCollective(int ranks) {
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        this.ranks = ranks;
        this.barrier = new CyclicBarrier(ranks);
        this.slots = new float[ranks][];
        this.lengths = new int[ranks];
    }

    public Collective forRank(int rank) {
        return new Collective() {
            @Override
            public int ranks() {
                return ranks;
            }

            @Override
            public int rank() {
                return rank;
            }

            @Override
            public void allReduceSum(float[] data, int length) {
                publish(rank, data, length);
                float[] sum = new float[length];
                for (int r = 0; r < ranks; r++) {
                    float[] slot = slots[r];
                    for (int i = 0; i < length; i++) sum[i] += slot[i];
                }
                await();  // everyone has read every slot before anyone overwrites its own
                System.arraycopy(sum, 0, data, 0, length);
            }

            @Override
            public int allGather(float[] part, int partLength, float[] whole) {
                publish(rank, part, partLength);
                int offset = 0;
                for (int r = 0; r < ranks; r++) {
                    System.arraycopy(slots[r], 0, whole, offset, lengths[r]);
                    offset += lengths[r];
                }
                await();
                return offset;
            }
        };
    }

    /** Releases every rank waiting in the group with an error (called when one rank fails). */
    public void abort() {
        barrier.reset();
    }

    private void publish(int rank, float[] data, int length) {
        slots[rank] = data;
        lengths[rank] = length;
        await();
    }

    private void await() {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("tensor-parallel rank interrupted", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("another tensor-parallel rank failed", e);
        }
    }
}
