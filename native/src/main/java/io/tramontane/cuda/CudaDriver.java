package io.tramontane.cuda;

import static io.tramontane.cuda.DriverSymbol.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API through java.lang.foreign: one checked Java method per {@link DriverSymbol}. A CUresult
 * other than CUDA_SUCCESS becomes a {@link CudaException} naming the symbol and the result. Out-parameters live
 * in a confined arena for the duration of the call. Obtain an instance from {@link Cuda#driver()}, which probes
 * libcuda.so.1 first. The driver API is thread-safe; contexts are current per thread ({@link #contextSetCurrent}).
 */
public final class CudaDriver {
    private static final int CUDA_SUCCESS = 0;
    private static final int GRAPH_EXEC_UPDATE_FAILURE = 910;
    private static final long GRAPH_EXEC_UPDATE_INFO_BYTES = 24;
    private static final int FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    private static final int TENSOR_MAP_INTERLEAVE_NONE = 0, TENSOR_MAP_OOB_FILL_ZERO = 0;

    private final MethodHandle[] handles = new MethodHandle[DriverSymbol.values().length];

    private CudaDriver(SymbolLookup library) {
        Linker linker = Linker.nativeLinker();
        for (DriverSymbol function : DriverSymbol.values()) {
            MemorySegment address = function.symbols().stream()
                    .flatMap(name -> library.find(name).stream())
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(
                            "does not export " + String.join(" or ", function.symbols())));
            handles[function.ordinal()] = linker.downcallHandle(address, function.descriptor());
        }
    }

    /** Binds every {@link DriverSymbol} in {@code library}; IllegalStateException names a missing one. */
    static CudaDriver bind(SymbolLookup library) {
        return new CudaDriver(library);
    }

    // ---- errors, initialisation, devices

    /** cuGetErrorName, or null when the driver does not know the result. Never throws a CudaException. */
    public String errorName(int result) {
        return errorText(CU_GET_ERROR_NAME, result);
    }

    /** cuGetErrorString, or null when the driver does not know the result. */
    public String errorString(int result) {
        return errorText(CU_GET_ERROR_STRING, result);
    }

    public void init() {
        check(CU_INIT, () -> (int) handle(CU_INIT).invokeExact(0));
    }

    /** The driver's CUDA version as 1000 * major + 10 * minor, e.g. 13000 for 13.0. */
    public int driverVersion() {
        return outInt(CU_DRIVER_GET_VERSION, out -> (int) handle(CU_DRIVER_GET_VERSION).invokeExact(out));
    }

    public int deviceCount() {
        return outInt(CU_DEVICE_GET_COUNT, out -> (int) handle(CU_DEVICE_GET_COUNT).invokeExact(out));
    }

    /** The CUdevice of ordinal 0..deviceCount()-1. */
    public int device(int ordinal) {
        return outInt(CU_DEVICE_GET, out -> (int) handle(CU_DEVICE_GET).invokeExact(out, ordinal));
    }

    public String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            check(CU_DEVICE_GET_NAME, () -> (int) handle(CU_DEVICE_GET_NAME).invokeExact(name, (int) name.byteSize(), device));
            return name.getString(0);
        }
    }

    public int deviceAttribute(int device, DeviceAttribute attribute) {
        return outInt(CU_DEVICE_GET_ATTRIBUTE,
                out -> (int) handle(CU_DEVICE_GET_ATTRIBUTE).invokeExact(out, attribute.value, device));
    }

    public long deviceTotalMemory(int device) {
        return outLong(CU_DEVICE_TOTAL_MEM, out -> (int) handle(CU_DEVICE_TOTAL_MEM).invokeExact(out, device));
    }

    // ---- contexts

    public Context primaryContextRetain(int device) {
        return new Context(outAddress(CU_DEVICE_PRIMARY_CTX_RETAIN,
                out -> (int) handle(CU_DEVICE_PRIMARY_CTX_RETAIN).invokeExact(out, device)));
    }

    public void primaryContextRelease(int device) {
        check(CU_DEVICE_PRIMARY_CTX_RELEASE, () -> (int) handle(CU_DEVICE_PRIMARY_CTX_RELEASE).invokeExact(device));
    }

    /** Makes {@code context} current on the calling thread. */
    public void contextSetCurrent(Context context) {
        check(CU_CTX_SET_CURRENT, () -> (int) handle(CU_CTX_SET_CURRENT).invokeExact(context.handle()));
    }

    /** Waits for all work of the current context; reports errors of earlier asynchronous work. */
    public void contextSynchronize() {
        check(CU_CTX_SYNCHRONIZE, () -> (int) handle(CU_CTX_SYNCHRONIZE).invokeExact());
    }

    // ---- streams and events

    /** A new stream; flags 0 or {@link Stream#NON_BLOCKING}. */
    public Stream streamCreate(int flags) {
        return new Stream(outAddress(CU_STREAM_CREATE, out -> (int) handle(CU_STREAM_CREATE).invokeExact(out, flags)));
    }

    public void streamDestroy(Stream stream) {
        check(CU_STREAM_DESTROY, () -> (int) handle(CU_STREAM_DESTROY).invokeExact(stream.handle()));
    }

    public void streamSynchronize(Stream stream) {
        check(CU_STREAM_SYNCHRONIZE, () -> (int) handle(CU_STREAM_SYNCHRONIZE).invokeExact(stream.handle()));
    }

    /** A new event with timing enabled (flags CU_EVENT_DEFAULT). */
    public Event eventCreate() {
        return new Event(outAddress(CU_EVENT_CREATE, out -> (int) handle(CU_EVENT_CREATE).invokeExact(out, 0)));
    }

    public void eventRecord(Event event, Stream stream) {
        check(CU_EVENT_RECORD, () -> (int) handle(CU_EVENT_RECORD).invokeExact(event.handle(), stream.handle()));
    }

    public void eventSynchronize(Event event) {
        check(CU_EVENT_SYNCHRONIZE, () -> (int) handle(CU_EVENT_SYNCHRONIZE).invokeExact(event.handle()));
    }

    /** Milliseconds between two completed events (resolution about 0.5 us). */
    public float eventElapsedMillis(Event start, Event end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            check(CU_EVENT_ELAPSED_TIME,
                    () -> (int) handle(CU_EVENT_ELAPSED_TIME).invokeExact(out, start.handle(), end.handle()));
            return out.get(JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(Event event) {
        check(CU_EVENT_DESTROY, () -> (int) handle(CU_EVENT_DESTROY).invokeExact(event.handle()));
    }

    // ---- memory (see DeviceArena for owned allocations)

    /** cuMemAlloc; prefer {@link DeviceArena#allocate}, which frees deterministically. */
    public DeviceBuffer memAlloc(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation size must be positive: " + bytes);
        return new DeviceBuffer(outLong(CU_MEM_ALLOC, out -> (int) handle(CU_MEM_ALLOC).invokeExact(out, bytes)), bytes);
    }

    public void memFree(DeviceBuffer buffer) {
        check(CU_MEM_FREE, () -> (int) handle(CU_MEM_FREE).invokeExact(buffer.address()));
    }

    /** Page-locked host memory of {@code bytes} (fast and truly asynchronous copies); free with {@link #memFreeHost}. */
    public MemorySegment memAllocHost(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation size must be positive: " + bytes);
        return outAddress(CU_MEM_ALLOC_HOST, out -> (int) handle(CU_MEM_ALLOC_HOST).invokeExact(out, bytes))
                .reinterpret(bytes);
    }

    public void memFreeHost(MemorySegment pinned) {
        check(CU_MEM_FREE_HOST, () -> (int) handle(CU_MEM_FREE_HOST).invokeExact(pinned));
    }

    /** Copies all of {@code src} (native memory) into {@code dst}, which must have the same size. */
    public void copyToDevice(DeviceBuffer dst, MemorySegment src) {
        long bytes = sameSize(dst, src);
        check(CU_MEMCPY_HTOD, () -> (int) handle(CU_MEMCPY_HTOD).invokeExact(dst.address(), src, bytes));
    }

    /** Copies all of {@code src} into {@code dst} (native memory), which must have the same size. */
    public void copyToHost(MemorySegment dst, DeviceBuffer src) {
        long bytes = sameSize(src, dst);
        check(CU_MEMCPY_DTOH, () -> (int) handle(CU_MEMCPY_DTOH).invokeExact(dst, src.address(), bytes));
    }

    /** Asynchronous {@link #copyToDevice}; {@code src} must stay valid until the stream reaches the copy (pinned for overlap). */
    public void copyToDeviceAsync(DeviceBuffer dst, MemorySegment src, Stream stream) {
        long bytes = sameSize(dst, src);
        check(CU_MEMCPY_HTOD_ASYNC,
                () -> (int) handle(CU_MEMCPY_HTOD_ASYNC).invokeExact(dst.address(), src, bytes, stream.handle()));
    }

    /** Asynchronous {@link #copyToHost}; read {@code dst} only after synchronising with the stream. */
    public void copyToHostAsync(MemorySegment dst, DeviceBuffer src, Stream stream) {
        long bytes = sameSize(src, dst);
        check(CU_MEMCPY_DTOH_ASYNC,
                () -> (int) handle(CU_MEMCPY_DTOH_ASYNC).invokeExact(dst, src.address(), bytes, stream.handle()));
    }

    /** Sets every byte of {@code dst} to {@code value}. */
    public void memsetD8(DeviceBuffer dst, byte value) {
        check(CU_MEMSET_D8, () -> (int) handle(CU_MEMSET_D8).invokeExact(dst.address(), value, dst.bytes()));
    }

    /** Sets every 32-bit word of {@code dst} (4-byte aligned, size a multiple of 4) to {@code value}. */
    public void memsetD32(DeviceBuffer dst, int value) {
        long words = words(dst);
        check(CU_MEMSET_D32, () -> (int) handle(CU_MEMSET_D32).invokeExact(dst.address(), value, words));
    }

    public void memsetD8Async(DeviceBuffer dst, byte value, Stream stream) {
        check(CU_MEMSET_D8_ASYNC,
                () -> (int) handle(CU_MEMSET_D8_ASYNC).invokeExact(dst.address(), value, dst.bytes(), stream.handle()));
    }

    public void memsetD32Async(DeviceBuffer dst, int value, Stream stream) {
        long words = words(dst);
        check(CU_MEMSET_D32_ASYNC,
                () -> (int) handle(CU_MEMSET_D32_ASYNC).invokeExact(dst.address(), value, words, stream.handle()));
    }

    // ---- modules and launches

    /** Loads a fatbin, cubin or NUL-terminated PTX image from native memory into the current context. */
    public Module moduleLoadData(MemorySegment image) {
        requireNative(image, "module image");
        return new Module(outAddress(CU_MODULE_LOAD_DATA, out -> (int) handle(CU_MODULE_LOAD_DATA).invokeExact(out, image)));
    }

    public void moduleUnload(Module module) {
        check(CU_MODULE_UNLOAD, () -> (int) handle(CU_MODULE_UNLOAD).invokeExact(module.handle()));
    }

    /** The kernel named {@code name} (an extern "C" symbol) in {@code module}. */
    public Kernel moduleGetFunction(Module module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            return new Kernel(outAddress(CU_MODULE_GET_FUNCTION,
                    out -> (int) handle(CU_MODULE_GET_FUNCTION).invokeExact(out, module.handle(), cName)));
        }
    }

    /** Lets launches of {@code kernel} use up to {@code bytes} of dynamic shared memory (above the 48 KiB default). */
    public void setMaxDynamicSharedMemory(Kernel kernel, int bytes) {
        check(CU_FUNC_SET_ATTRIBUTE, () -> (int) handle(CU_FUNC_SET_ATTRIBUTE)
                .invokeExact(kernel.handle(), FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
    }

    /** Enqueues {@code kernel} on {@code stream}; the driver copies the argument values before returning. */
    public void launchKernel(Kernel kernel, LaunchConfig config, Stream stream, KernelArgs args) {
        Dim3 grid = config.grid(), block = config.block();
        check(CU_LAUNCH_KERNEL, () -> (int) handle(CU_LAUNCH_KERNEL).invokeExact(kernel.handle(),
                grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), config.sharedBytes(),
                stream.handle(), args.array(), MemorySegment.NULL));
    }

    // ---- tensor maps (TMA)

    /**
     * cuTensorMapEncodeTiled: the CUtensorMap a kernel's TMA loads read {@code spec} through (element strides 1, no
     * interleave, out-of-bounds elements zero). A pure host-side encoding; needs an initialised driver.
     */
    public TensorMap tensorMapEncodeTiled(TiledTensorMap spec) {
        try (Arena arena = Arena.ofConfined()) {
            int rank = spec.rank();
            MemorySegment map = arena.allocate(TensorMap.BYTES, TensorMap.ALIGNMENT);
            MemorySegment dims = arena.allocateFrom(JAVA_LONG, spec.globalDims());
            // a rank-1 map has no strides; the driver is still handed a valid pointer
            MemorySegment strides = arena.allocateFrom(JAVA_LONG, rank == 1 ? new long[] {0} : spec.globalStrides());
            MemorySegment box = arena.allocateFrom(JAVA_INT, spec.box());
            MemorySegment elementStrides = arena.allocate(JAVA_INT, rank);
            for (int i = 0; i < rank; i++) elementStrides.setAtIndex(JAVA_INT, i, 1);
            MemorySegment address = MemorySegment.ofAddress(spec.address());
            check(CU_TENSOR_MAP_ENCODE_TILED, () -> (int) handle(CU_TENSOR_MAP_ENCODE_TILED).invokeExact(map,
                    spec.type().value, rank, address, dims, strides, box, elementStrides, TENSOR_MAP_INTERLEAVE_NONE,
                    spec.swizzle().value, spec.l2Promotion().value, TENSOR_MAP_OOB_FILL_ZERO));
            return new TensorMap(spec, map);
        }
    }

    // ---- graphs

    /** Starts recording the work enqueued on {@code stream} (not the default stream) instead of running it. */
    public void streamBeginCapture(Stream stream, CaptureMode mode) {
        check(CU_STREAM_BEGIN_CAPTURE, () -> (int) handle(CU_STREAM_BEGIN_CAPTURE).invokeExact(stream.handle(), mode.value));
    }

    public Graph streamEndCapture(Stream stream) {
        return new Graph(outAddress(CU_STREAM_END_CAPTURE,
                out -> (int) handle(CU_STREAM_END_CAPTURE).invokeExact(stream.handle(), out)));
    }

    /** cuGraphInstantiateWithFlags with no flags. */
    public GraphExec graphInstantiate(Graph graph) {
        return new GraphExec(outAddress(CU_GRAPH_INSTANTIATE,
                out -> (int) handle(CU_GRAPH_INSTANTIATE).invokeExact(out, graph.handle(), 0L)));
    }

    public void graphLaunch(GraphExec graph, Stream stream) {
        check(CU_GRAPH_LAUNCH, () -> (int) handle(CU_GRAPH_LAUNCH).invokeExact(graph.handle(), stream.handle()));
    }

    /**
     * Makes {@code exec} run {@code graph} instead of the graph it was instantiated from, in place: kernel parameters,
     * grids and copy addresses may differ, the topology may not. False when the driver refuses the update
     * (CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE): instantiate {@code graph} anew; other failures throw.
     */
    public boolean graphExecUpdate(GraphExec exec, Graph graph) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(GRAPH_EXEC_UPDATE_INFO_BYTES, 8);  // result, error node, from node
            int result = StatusCalls.invoke(() -> (int) handle(CU_GRAPH_EXEC_UPDATE).invokeExact(exec.handle(),
                    graph.handle(), info));
            if (result == GRAPH_EXEC_UPDATE_FAILURE) return false;
            if (result != CUDA_SUCCESS) {
                throw new CudaException(CU_GRAPH_EXEC_UPDATE.symbol(), result, errorName(result), errorString(result));
            }
            return true;
        }
    }

    public void graphExecDestroy(GraphExec graph) {
        check(CU_GRAPH_EXEC_DESTROY, () -> (int) handle(CU_GRAPH_EXEC_DESTROY).invokeExact(graph.handle()));
    }

    public void graphDestroy(Graph graph) {
        check(CU_GRAPH_DESTROY, () -> (int) handle(CU_GRAPH_DESTROY).invokeExact(graph.handle()));
    }

    // ---- plumbing (StatusCalls)

    private MethodHandle handle(DriverSymbol function) {
        return handles[function.ordinal()];
    }

    private void check(DriverSymbol function, StatusCalls.Call call) {
        int result = StatusCalls.invoke(call);
        if (result != CUDA_SUCCESS) {
            throw new CudaException(function.symbol(), result, errorName(result), errorString(result));
        }
    }

    private int outInt(DriverSymbol function, StatusCalls.OutCall call) {
        return StatusCalls.outInt(c -> check(function, c), call);
    }

    private long outLong(DriverSymbol function, StatusCalls.OutCall call) {
        return StatusCalls.outLong(c -> check(function, c), call);
    }

    private MemorySegment outAddress(DriverSymbol function, StatusCalls.OutCall call) {
        return StatusCalls.outAddress(c -> check(function, c), call);
    }

    private String errorText(DriverSymbol function, int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status = StatusCalls.invoke(() -> (int) handle(function).invokeExact(result, out));
            return status != CUDA_SUCCESS ? null : StatusCalls.text(out.get(ADDRESS, 0));
        }
    }

    private static long sameSize(DeviceBuffer device, MemorySegment host) {
        requireNative(host, "host memory");
        if (host.byteSize() != device.bytes()) {
            throw new IllegalArgumentException("copy between " + host.byteSize() + " host bytes and a "
                    + device.bytes() + "-byte device buffer: slice one of them to the same size");
        }
        return device.bytes();
    }

    private static long words(DeviceBuffer buffer) {
        if (buffer.bytes() % 4 != 0 || buffer.address() % 4 != 0) {
            throw new IllegalArgumentException("32-bit memset needs a 4-byte aligned whole number of words: " + buffer);
        }
        return buffer.bytes() / 4;
    }

    private static void requireNative(MemorySegment segment, String what) {
        if (!segment.isNative()) throw new IllegalArgumentException(what + " must be native (off-heap) memory");
    }
}
