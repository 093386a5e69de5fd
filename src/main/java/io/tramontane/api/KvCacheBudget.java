package io.tramontane.api;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.cuda.Cuda;
import io.tramontane.model.ModelConfig;
import io.tramontane.model.Shard;
import java.lang.management.ManagementFactory;

/**
 * How many KV-cache blocks a model gets. The CPU keeps F32 or BF16 K/V off the Java heap (4 or 2 bytes per element):
 * by default what is left of 75% of the machine's memory after the checkpoint's weights and the maximum heap, at
 * least 256 MiB; memory is only touched as sequences fill it. The CUDA backend keeps BF16 or FP8 K/V (2 or 1 bytes per
 * element: an FP8 cache holds twice the tokens) on each rank's device: by default what is
 * left of 90% of the device's memory after that rank's share of the weights and the activation budget (vLLM's
 * gpu_memory_utilization, fixed), at least 256 MiB. An explicit budget is per device on CUDA, for all ranks on the CPU.
 */
final class KvCacheBudget {
    static final double DEVICE_FRACTION = 0.9, HOST_FRACTION = 0.75;
    static final long MINIMUM = 256L << 20;
    static final long DEVICE_RESERVE = 3L << 30;  // activations (2 GiB budget), context, kernels, NCCL buffers

    private KvCacheBudget() {}

    /**
     * @param requested   bytes asked for, or 0 for the default
     * @param weightBytes the checkpoint's weight bytes (split evenly over ranks on CUDA)
     * @param wanted      blocks that would hold every sequence at full context: more is never allocated
     */
    static int blocks(ModelConfig config, String backend, int ranks, long requested, long weightBytes, int blockSize,
                      long wanted, KvCacheDtype dtype) {
        boolean cuda = backend.equals("cuda");
        long budget = requested > 0 ? requested
                : cuda ? deviceDefault(Cuda.available() ? Cuda.driver().deviceTotalMemory(Cuda.driver().device(0)) : 0,
                        weightBytes, ranks)
                : hostDefault(physicalMemory(), weightBytes, Runtime.getRuntime().maxMemory());
        long perBlock = cuda ? deviceBytesPerBlock(config, ranks, blockSize, dtype)
                : config.kvBytesPerPosition(dtype.bytes) * blockSize;
        // the CPU cache indexes a layer's pool with ints
        long cap = cuda ? Integer.MAX_VALUE : Integer.MAX_VALUE / ((long) blockSize * config.kvWidth());
        return (int) Math.max(1, Math.min(wanted, Math.min(cap, budget / perBlock)));
    }

    /** 75% of the machine's memory less the weights and the heap, or the minimum; 0 physical bytes: the minimum. */
    static long hostDefault(long physicalBytes, long weightBytes, long heapBytes) {
        return Math.max(MINIMUM, (long) (physicalBytes * HOST_FRACTION) - weightBytes - heapBytes);
    }

    /** The machine's (or the container's) memory, or 0 where the JVM does not say. */
    private static long physicalMemory() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : 0;
    }

    /** 90% of the device less one rank's weights and the reserve, or the minimum; 0 device bytes: the minimum. */
    static long deviceDefault(long deviceBytes, long weightBytes, int ranks) {
        long rankWeights = (weightBytes + ranks - 1) / ranks;
        return Math.max(MINIMUM, (long) (deviceBytes * DEVICE_FRACTION) - rankWeights - DEVICE_RESERVE);
    }

    /** One block of keys and values of every layer for the kv heads rank 0 holds (the most any rank holds). */
    static long deviceBytesPerBlock(ModelConfig config, int ranks, int blockSize, KvCacheDtype dtype) {
        int kvHeads = Shard.of(config, 0, ranks).kvHeads();
        return 2L * config.nLayers() * kvHeads * config.headDim() * blockSize * dtype.bytes;
    }
}
