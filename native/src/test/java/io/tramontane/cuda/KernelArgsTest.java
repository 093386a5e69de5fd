package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class KernelArgsTest {

    /** The bytes behind kernelParams[i], as the driver reads them for a parameter of {@code bytes} bytes. */
    private static MemorySegment param(KernelArgs args, int i, long bytes) {
        return args.array().getAtIndex(ADDRESS, i).reinterpret(bytes);
    }

    @Test
    void eachEntryPointsAtItsValueInLittleEndianLayout() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 5)
                    .pointer(new DeviceBuffer(0x7f00_1234_5600L, 64))
                    .i32(-7)
                    .f32(1.5f)
                    .i64(1L << 40)
                    .i32(0x01020304);
            assertThat(args.count()).isEqualTo(5);
            assertThat(param(args, 0, 8).toArray(JAVA_LONG)).containsExactly(0x7f00_1234_5600L);
            assertThat(param(args, 1, 4).toArray(JAVA_INT)).containsExactly(-7);
            assertThat(param(args, 2, 4).toArray(JAVA_INT)).containsExactly(Float.floatToRawIntBits(1.5f));
            assertThat(param(args, 3, 8).toArray(JAVA_LONG)).containsExactly(1L << 40);
            assertThat(param(args, 4, 4).toArray(JAVA_BYTE))
                    .containsExactly(4, 3, 2, 1);  // x86-64 and aarch64 are little-endian, as is the GPU
        }
    }

    @Test
    void slotsAreEightBytesApartAndAligned() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 3);
            long first = args.array().getAtIndex(ADDRESS, 0).address();
            assertThat(first % 8).isZero();
            assertThat(args.array().getAtIndex(ADDRESS, 1).address()).isEqualTo(first + 8);
            assertThat(args.array().getAtIndex(ADDRESS, 2).address()).isEqualTo(first + 16);
        }
    }

    @Test
    void clearZeroesTheValuesAndKeepsThePointers() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 2).i64(-1L).i64(-1L);
            MemorySegment before = args.array().getAtIndex(ADDRESS, 1);
            args.clear().f32(2f);
            assertThat(args.count()).isEqualTo(1);
            assertThat(args.array().getAtIndex(ADDRESS, 1)).isEqualTo(before);
            assertThat(param(args, 0, 8).toArray(JAVA_LONG)).containsExactly(Float.floatToRawIntBits(2f));
            assertThat(param(args, 1, 8).toArray(JAVA_LONG)).containsExactly(0L);
        }
    }

    @Test
    void refusesMoreArgumentsThanItsCapacity() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 1).i32(1);
            assertThatThrownBy(() -> args.i32(2)).isInstanceOf(IllegalStateException.class).hasMessageContaining("1 kernel");
        }
    }

    @Test
    void aTensorMapGetsAnAlignedSlotOfItsOwnThatAScalarGivesBack() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment encoded = arena.allocate(TensorMap.BYTES).fill((byte) 7);
            TiledTensorMap spec = new TiledTensorMap(TiledTensorMap.DataType.UINT8, 0x1000, new long[] {64}, new long[0],
                    new int[] {64}, TiledTensorMap.Swizzle.NONE, TiledTensorMap.L2Promotion.NONE);
            KernelArgs args = new KernelArgs(arena, 2).i32(1).tensorMap(new TensorMap(spec, encoded));
            MemorySegment slot = args.array().getAtIndex(ADDRESS, 1);
            assertThat(slot.address() % TensorMap.ALIGNMENT).isZero();
            assertThat(param(args, 1, TensorMap.BYTES).toArray(JAVA_BYTE)).containsOnly((byte) 7);

            args.clear().i32(3).f32(2f);  // the same index as a scalar again: back to its 8-byte slot
            assertThat(args.array().getAtIndex(ADDRESS, 1).address()).isEqualTo(args.array().getAtIndex(ADDRESS, 0).address() + 8);
            assertThat(param(args, 1, 4).toArray(JAVA_INT)).containsExactly(Float.floatToRawIntBits(2f));
        }
    }
}
