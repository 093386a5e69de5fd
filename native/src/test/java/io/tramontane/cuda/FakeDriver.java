package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stand-in for libcuda.so.1 made of FFM upcall stubs, so the bindings are exercised through real native
 * calls (argument passing, out-parameters, error strings) on a machine without a driver. A method here named
 * like a {@link DriverSymbol#apiName()} with the descriptor's Java type implements that function; every other
 * function returns CUDA_ERROR_NOT_SUPPORTED. Upcalls must not throw (the JVM would abort), so they only record.
 */
final class FakeDriver implements AutoCloseable {
    static final int OUT_OF_MEMORY = 2, NO_DEVICE = 100, NOT_SUPPORTED = 801;
    private static final Map<Integer, String[]> ERRORS = Map.of(
            OUT_OF_MEMORY, new String[] {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
            NO_DEVICE, new String[] {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
            NOT_SUPPORTED, new String[] {"CUDA_ERROR_NOT_SUPPORTED", "operation not supported"});

    final Arena arena = Arena.ofConfined();
    int initResult;
    long memoryLimit = 1L << 30;
    long nextAddress = 0x7f00_0000_0000L;
    final List<Long> freed = new ArrayList<>();
    final List<Long> freedHost = new ArrayList<>();
    /** The last cuLaunchKernel: its integer arguments and the 8 bytes behind each of the first kernelParams. */
    final Map<String, Object> launch = new HashMap<>();
    int launchParamCount = 5;
    /** The last cuTensorMapEncodeTiled: every parameter, arrays read at their rank. */
    final Map<String, Object> tensorMap = new HashMap<>();
    /** The last cuMemsetD32: dst, value, count. */
    long[] memsetD32;
    /** The last cuMemcpyHtoD: dst, first source byte, count. */
    long[] copyToDevice;

    /** A lookup exporting every driver symbol except {@code hidden} ones. */
    SymbolLookup lookup(Set<String> hidden) {
        Map<String, MemorySegment> stubs = new HashMap<>();
        for (DriverSymbol function : DriverSymbol.values()) {
            MemorySegment stub = stub(function);
            for (String name : function.symbols()) if (!hidden.contains(name)) stubs.putIfAbsent(name, stub);
        }
        return name -> Optional.ofNullable(stubs.get(name));
    }

    CudaDriver driver() {
        return CudaDriver.bind(lookup(Set.of()));
    }

    private MemorySegment stub(DriverSymbol function) {
        return UpcallStubs.stub(MethodHandles.lookup(), this, function.apiName(), function.descriptor(), NOT_SUPPORTED, arena);
    }

    @Override
    public void close() {
        arena.close();
    }

    // ---- the implemented functions (names as cuda.h declares them)

    int cuGetErrorName(int result, MemorySegment out) {
        return errorText(result, 0, out);
    }

    int cuGetErrorString(int result, MemorySegment out) {
        return errorText(result, 1, out);
    }

    private int errorText(int result, int which, MemorySegment out) {
        String[] texts = ERRORS.get(result);
        if (texts == null) return 1;  // CUDA_ERROR_INVALID_VALUE, as the real driver answers unknown codes
        out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, arena.allocateFrom(texts[which]));
        return 0;
    }

    int cuInit(int flags) {
        return initResult;
    }

    int cuDriverGetVersion(MemorySegment out) {
        out.reinterpret(4).set(JAVA_INT, 0, 13000);
        return 0;
    }

    int cuDeviceGetCount(MemorySegment out) {
        out.reinterpret(4).set(JAVA_INT, 0, 1);
        return 0;
    }

    int cuMemAlloc(MemorySegment out, long bytes) {
        if (bytes > memoryLimit) return OUT_OF_MEMORY;
        out.reinterpret(8).set(JAVA_LONG, 0, nextAddress);
        nextAddress += (bytes + 255) / 256 * 256;
        return 0;
    }

    int cuMemFree(long address) {
        freed.add(address);
        return 0;
    }

    int cuMemAllocHost(MemorySegment out, long bytes) {
        out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, arena.allocate(bytes, 64));
        return 0;
    }

    int cuMemFreeHost(MemorySegment pointer) {
        freedHost.add(pointer.address());
        return 0;
    }

    /** What cuGraphExecUpdate answers; the exec and graph it was given. */
    int graphExecUpdateResult;
    long[] graphExecUpdate;

    int cuGraphExecUpdate(MemorySegment exec, MemorySegment graph, MemorySegment info) {
        graphExecUpdate = new long[] {exec.address(), graph.address()};
        info.reinterpret(24).set(ValueLayout.JAVA_INT, 0, graphExecUpdateResult == 0 ? 0 : 1);
        return graphExecUpdateResult;
    }

    int cuMemsetD32(long dst, int value, long count) {
        memsetD32 = new long[] {dst, value, count};
        return 0;
    }

    int cuMemcpyHtoD(long dst, MemorySegment src, long bytes) {
        copyToDevice = new long[] {dst, src.reinterpret(1).get(JAVA_BYTE, 0), bytes};
        return 0;
    }

    int cuLaunchKernel(MemorySegment f, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                       MemorySegment stream, MemorySegment params, MemorySegment extra) {
        launch.put("function", f.address());
        launch.put("dims", List.of(gx, gy, gz, bx, by, bz, sharedBytes));
        launch.put("stream", stream.address());
        launch.put("extra", extra.address());
        MemorySegment pointers = params.reinterpret(ADDRESS.byteSize() * launchParamCount);
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < launchParamCount; i++) {
            values.add(pointers.getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0));
        }
        launch.put("params", values);
        return 0;
    }

    /** Records the parameters and writes the global address, then 0x5a bytes, as the "encoded" map. */
    int cuTensorMapEncodeTiled(MemorySegment map, int type, int rank, MemorySegment address, MemorySegment dims,
                               MemorySegment strides, MemorySegment box, MemorySegment elementStrides, int interleave,
                               int swizzle, int l2Promotion, int oobFill) {
        tensorMap.put("aligned", map.address() % 64 == 0);
        tensorMap.put("scalars", List.of(type, rank, interleave, swizzle, l2Promotion, oobFill));
        tensorMap.put("address", address.address());
        tensorMap.put("dims", List.of(longs(dims.reinterpret(8L * rank).toArray(JAVA_LONG))));
        tensorMap.put("strides", List.of(longs(strides.reinterpret(8L * Math.max(rank - 1, 0)).toArray(JAVA_LONG))));
        tensorMap.put("box", List.of(ints(box.reinterpret(4L * rank).toArray(JAVA_INT))));
        tensorMap.put("elementStrides", List.of(ints(elementStrides.reinterpret(4L * rank).toArray(JAVA_INT))));
        MemorySegment out = map.reinterpret(128);
        out.fill((byte) 0x5a);
        out.set(JAVA_LONG, 0, address.address());
        return 0;
    }

    private static Long[] longs(long[] values) {
        return java.util.Arrays.stream(values).boxed().toArray(Long[]::new);
    }

    private static Integer[] ints(int[] values) {
        return java.util.Arrays.stream(values).boxed().toArray(Integer[]::new);
    }
}
