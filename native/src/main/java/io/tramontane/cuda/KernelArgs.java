package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The {@code void** kernelParams} of cuLaunchKernel: entry i points at the value of the kernel's i-th
 * parameter, which the driver copies with the size the kernel declares. Each value gets an 8-byte slot, enough
 * for every scalar and pointer parameter; a {@link TensorMap} (128 bytes, passed by value) gets a 128-byte aligned
 * slot of its own, allocated the first time parameter i is one. Refilling the arguments for the next launch
 * ({@link #clear()}) only writes values. Arguments must be added in the kernel's parameter order.
 */
public final class KernelArgs {
    static final long SLOT_BYTES = 8;

    private final SegmentAllocator allocator;
    private final MemorySegment values;
    private final MemorySegment pointers;
    private final MemorySegment[] tensorMapSlots;
    private final int capacity;
    private int count;

    /** Room for {@code capacity} parameters, allocated (and freed) by {@code allocator}, e.g. an Arena. */
    public KernelArgs(SegmentAllocator allocator, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
        this.allocator = allocator;
        this.capacity = capacity;
        this.values = allocator.allocate(SLOT_BYTES * capacity, SLOT_BYTES);
        this.pointers = allocator.allocate(ADDRESS, capacity);
        this.tensorMapSlots = new MemorySegment[capacity];
        for (int i = 0; i < capacity; i++) pointers.setAtIndex(ADDRESS, i, scalarSlot(i));
    }

    /** A device pointer parameter ({@code T*}). */
    public KernelArgs pointer(DeviceBuffer buffer) {
        return i64(buffer.address());
    }

    /** An {@code int} or {@code unsigned int} parameter. */
    public KernelArgs i32(int value) {
        next().set(JAVA_INT, 0, value);
        return this;
    }

    /** A {@code long long}, {@code size_t} or raw pointer parameter. */
    public KernelArgs i64(long value) {
        next().set(JAVA_LONG, 0, value);
        return this;
    }

    /** A {@code float} parameter. */
    public KernelArgs f32(float value) {
        next().set(JAVA_FLOAT, 0, value);
        return this;
    }

    /** A {@code const __grid_constant__ CUtensorMap} parameter: its 128 bytes by value. */
    public KernelArgs tensorMap(TensorMap map) {
        int index = claim();
        if (tensorMapSlots[index] == null) tensorMapSlots[index] = allocator.allocate(TensorMap.BYTES, TensorMap.ALIGNMENT);
        map.copyTo(tensorMapSlots[index]);
        pointers.setAtIndex(ADDRESS, index, tensorMapSlots[index]);
        return this;
    }

    /** Forgets the arguments (and zeroes their slots) so the same arrays serve the next launch. */
    public KernelArgs clear() {
        values.fill((byte) 0);
        for (MemorySegment slot : tensorMapSlots) if (slot != null) slot.fill((byte) 0);
        count = 0;
        return this;
    }

    public int count() {
        return count;
    }

    /** The {@code void**} array to pass as kernelParams. */
    public MemorySegment array() {
        return pointers;
    }

    /** The next scalar slot, pointed at again if a tensor map used this index before. */
    private MemorySegment next() {
        int index = claim();
        MemorySegment slot = scalarSlot(index);
        if (tensorMapSlots[index] != null) pointers.setAtIndex(ADDRESS, index, slot);
        return slot;
    }

    private int claim() {
        if (count == capacity) throw new IllegalStateException("more than " + capacity + " kernel arguments");
        return count++;
    }

    private MemorySegment scalarSlot(int index) {
        return values.asSlice(SLOT_BYTES * index, SLOT_BYTES);
    }
}
