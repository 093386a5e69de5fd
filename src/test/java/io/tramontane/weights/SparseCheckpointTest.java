package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.model.ModelConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening costs metadata only: a 123B-shaped FP8 checkpoint (about 128 GB per layout, written sparse)
 * opens, validates and builds its model description in under 2 s and under 200 MB of heap, in both layouts.
 */
class SparseCheckpointTest {
    static final long HEAP_BOUND = 200L << 20;
    static final long TIME_BOUND_NANOS = 2_000_000_000L;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void write() {
        SparseDevstral123b.writeNative(tmp.resolve("native"));
        SparseDevstral123b.writeHf(tmp.resolve("hf"));
    }

    @Test
    void filesAreSparse() throws Exception {
        long apparent = 0;
        try (var files = Files.list(tmp.resolve("hf"))) {
            for (Path p : files.toList()) apparent += Files.size(p);
        }
        assertThat(apparent).isGreaterThan(128_000_000_000L);
    }

    @Test
    void bothLayoutsOpenWithinTheTimeAndHeapBounds() {
        for (String layout : new String[] {"native", "hf"}) {
            Measured m = measureOpen(tmp.resolve(layout));
            System.out.printf("123B-shaped %s: open %.0f ms, allocated %.1f MB, retained %.1f MB%n",
                    layout, m.nanos / 1e6, m.allocated / 1e6, m.retained / 1e6);
            assertThat(m.allocated).as("bytes allocated while opening").isLessThan(HEAP_BOUND);
            assertThat(m.retained).as("heap retained by the open checkpoint").isLessThan(HEAP_BOUND);
            if (!underDebugger()) assertThat(m.nanos).as("open time").isLessThan(TIME_BOUND_NANOS);
        }
    }

    @Test
    void bothLayoutsDescribeTheSameModel() {
        try (Checkpoint nat = Checkpoint.open(tmp.resolve("native")); Checkpoint hf = Checkpoint.open(tmp.resolve("hf"))) {
            ModelConfig c = hf.config();
            assertThat(c.architecture()).isEqualTo("Ministral3ForCausalLM");
            assertThat(nat.config()).isEqualTo(c);
            assertThat(c.yarn().attentionFactor()).isCloseTo(1.4158883083, org.assertj.core.data.Offset.offset(1e-10));
            assertThat(c.temperature()).isNull();
            assertThat(c.moe()).isNull();
            for (Checkpoint ck : new Checkpoint[] {nat, hf}) {
                assertThat(ck.parameterCount()).isEqualTo(SparseDevstral123b.PARAMETERS);
                assertThat(ck.bytesByDType()).isEqualTo(Map.of(DType.F8_E4M3, SparseDevstral123b.FP8_BYTES,
                        DType.BF16, SparseDevstral123b.BF16_BYTES, DType.F32, SparseDevstral123b.SCALE_BYTES));
                assertThat(ck.weightFiles()).hasSize(SparseDevstral123b.SHARDS);
                assertThat(ck.warnings()).isEmpty();
                LayerWeights last = ck.weights().layers().getLast();
                assertThat(last.wq().weight().shape()).containsExactly(12288, 12288);
                assertThat(last.wk().weightScale()).isEqualTo(0.0125f);
                assertThat(last.wk().activationScale()).isEqualTo(0.0125f);
                assertThat(((FeedForward.Dense) last.ffn()).w2().weight().shape()).containsExactly(12288, 28672);
            }
        }
    }

    record Measured(long nanos, long allocated, long retained) {}

    static Measured measureOpen(Path dir) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        try (Checkpoint c = Checkpoint.open(dir)) {
            long nanos = System.nanoTime() - start;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            System.gc();
            long retained = memory.getHeapMemoryUsage().getUsed() - heapBefore;
            assertThat(c.weights().layers()).hasSize(SparseDevstral123b.LAYERS);
            return new Measured(nanos, allocated, retained);
        }
    }

    static boolean underDebugger() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream().anyMatch(a -> a.contains("jdwp"));
    }
}
