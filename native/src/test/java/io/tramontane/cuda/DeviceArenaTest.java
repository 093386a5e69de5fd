package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeviceArenaTest {
    private final FakeDriver fake = new FakeDriver();
    private final CudaDriver driver = fake.driver();

    @AfterEach
    void close() {
        fake.close();
    }

    @Test
    void closeFreesEveryAllocationNewestFirstOnce() {
        DeviceBuffer a, b;
        MemorySegment pinned;
        try (DeviceArena arena = new DeviceArena(driver)) {
            a = arena.allocate(1000);
            b = arena.allocate(24);
            pinned = arena.allocatePinned(64);
            assertThat(arena.deviceBytes()).isEqualTo(1024);
            assertThat(pinned.byteSize()).isEqualTo(64);
            arena.close();  // idempotent: the try's close frees nothing twice
        }
        assertThat(fake.freed).containsExactly(b.address(), a.address());
        assertThat(fake.freedHost).containsExactly(pinned.address());
    }

    @Test
    void aClosedArenaRefusesToAllocate() {
        DeviceArena arena = new DeviceArena(driver);
        arena.close();
        assertThatThrownBy(() -> arena.allocate(8)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aFailedAllocationOwnsNothing() {
        fake.memoryLimit = 100;
        try (DeviceArena arena = new DeviceArena(driver)) {
            arena.allocate(50);
            assertThatThrownBy(() -> arena.allocate(200)).isInstanceOf(CudaException.class);
            assertThat(arena.deviceBytes()).isEqualTo(50);
        }
        assertThat(fake.freed).hasSize(1);
    }
}
