package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.List;

/**
 * Every libcuda function Tramontane calls: the name cuda.h declares, the symbol(s) libcuda exports for it,
 * and its C signature as a {@link FunctionDescriptor}. All return a CUresult (C int).
 *
 * <p>cuda.h #defines many API names to versioned symbols (cuMemAlloc -> cuMemAlloc_v2, cuGraphInstantiate ->
 * cuGraphInstantiateWithFlags); a binding by the plain name would reach the legacy ABI. The first symbol is the
 * one CUDA 13's header selects; a later one is a fallback for older drivers that lack it.
 *
 * <p>C types: int, unsigned int, cuuint32_t, CUdevice and enums are JAVA_INT; size_t, CUdeviceptr and unsigned long long
 * are JAVA_LONG (LP64); pointers and the opaque handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction,
 * CUgraph, CUgraphExec) are ADDRESS. {@code DriverSymbolHeaderTest} checks all of this against cuda.h.
 */
public enum DriverSymbol {
    CU_GET_ERROR_NAME("cuGetErrorName", JAVA_INT, ADDRESS),
    CU_GET_ERROR_STRING("cuGetErrorString", JAVA_INT, ADDRESS),
    CU_INIT("cuInit", JAVA_INT),
    CU_DRIVER_GET_VERSION("cuDriverGetVersion", ADDRESS),

    CU_DEVICE_GET_COUNT("cuDeviceGetCount", ADDRESS),
    CU_DEVICE_GET("cuDeviceGet", ADDRESS, JAVA_INT),
    CU_DEVICE_GET_NAME("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT),
    CU_DEVICE_GET_ATTRIBUTE("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT),
    CU_DEVICE_TOTAL_MEM("cuDeviceTotalMem", List.of("cuDeviceTotalMem_v2"), ADDRESS, JAVA_INT),

    CU_DEVICE_PRIMARY_CTX_RETAIN("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT),
    CU_DEVICE_PRIMARY_CTX_RELEASE("cuDevicePrimaryCtxRelease", List.of("cuDevicePrimaryCtxRelease_v2"), JAVA_INT),
    CU_CTX_SET_CURRENT("cuCtxSetCurrent", ADDRESS),
    CU_CTX_SYNCHRONIZE("cuCtxSynchronize"),

    CU_STREAM_CREATE("cuStreamCreate", ADDRESS, JAVA_INT),
    CU_STREAM_DESTROY("cuStreamDestroy", List.of("cuStreamDestroy_v2"), ADDRESS),
    CU_STREAM_SYNCHRONIZE("cuStreamSynchronize", ADDRESS),

    CU_EVENT_CREATE("cuEventCreate", ADDRESS, JAVA_INT),
    CU_EVENT_RECORD("cuEventRecord", ADDRESS, ADDRESS),
    CU_EVENT_SYNCHRONIZE("cuEventSynchronize", ADDRESS),
    // _v2 appeared in CUDA 12.8; drivers before it export only the original, which has the same signature
    CU_EVENT_ELAPSED_TIME("cuEventElapsedTime", List.of("cuEventElapsedTime_v2", "cuEventElapsedTime"),
            ADDRESS, ADDRESS, ADDRESS),
    CU_EVENT_DESTROY("cuEventDestroy", List.of("cuEventDestroy_v2"), ADDRESS),

    CU_MEM_ALLOC("cuMemAlloc", List.of("cuMemAlloc_v2"), ADDRESS, JAVA_LONG),
    CU_MEM_FREE("cuMemFree", List.of("cuMemFree_v2"), JAVA_LONG),
    CU_MEM_ALLOC_HOST("cuMemAllocHost", List.of("cuMemAllocHost_v2"), ADDRESS, JAVA_LONG),
    CU_MEM_FREE_HOST("cuMemFreeHost", ADDRESS),
    CU_MEMCPY_HTOD("cuMemcpyHtoD", List.of("cuMemcpyHtoD_v2"), JAVA_LONG, ADDRESS, JAVA_LONG),
    CU_MEMCPY_DTOH("cuMemcpyDtoH", List.of("cuMemcpyDtoH_v2"), ADDRESS, JAVA_LONG, JAVA_LONG),
    CU_MEMCPY_HTOD_ASYNC("cuMemcpyHtoDAsync", List.of("cuMemcpyHtoDAsync_v2"), JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS),
    CU_MEMCPY_DTOH_ASYNC("cuMemcpyDtoHAsync", List.of("cuMemcpyDtoHAsync_v2"), ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
    CU_MEMSET_D8("cuMemsetD8", List.of("cuMemsetD8_v2"), JAVA_LONG, JAVA_BYTE, JAVA_LONG),
    CU_MEMSET_D32("cuMemsetD32", List.of("cuMemsetD32_v2"), JAVA_LONG, JAVA_INT, JAVA_LONG),
    CU_MEMSET_D8_ASYNC("cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS),
    CU_MEMSET_D32_ASYNC("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS),

    CU_MODULE_LOAD_DATA("cuModuleLoadData", ADDRESS, ADDRESS),
    CU_MODULE_UNLOAD("cuModuleUnload", ADDRESS),
    CU_MODULE_GET_FUNCTION("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS),
    CU_FUNC_SET_ATTRIBUTE("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT),
    // f, grid x/y/z, block x/y/z, dynamic shared bytes, stream, void** kernelParams, void** extra
    CU_LAUNCH_KERNEL("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, ADDRESS, ADDRESS),

    // tensorMap, dataType, rank, globalAddress, globalDim*, globalStrides*, boxDim*, elementStrides*, interleave,
    // swizzle, l2Promotion, oobFill
    CU_TENSOR_MAP_ENCODE_TILED("cuTensorMapEncodeTiled", ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),

    CU_STREAM_BEGIN_CAPTURE("cuStreamBeginCapture", List.of("cuStreamBeginCapture_v2"), ADDRESS, JAVA_INT),
    CU_STREAM_END_CAPTURE("cuStreamEndCapture", ADDRESS, ADDRESS),
    CU_GRAPH_INSTANTIATE("cuGraphInstantiate", List.of("cuGraphInstantiateWithFlags"), ADDRESS, ADDRESS, JAVA_LONG),
    CU_GRAPH_LAUNCH("cuGraphLaunch", ADDRESS, ADDRESS),
    // exec, graph, CUgraphExecUpdateResultInfo* (the _v2 ABI of CUDA 12)
    CU_GRAPH_EXEC_UPDATE("cuGraphExecUpdate", List.of("cuGraphExecUpdate_v2"), ADDRESS, ADDRESS, ADDRESS),
    CU_GRAPH_EXEC_DESTROY("cuGraphExecDestroy", ADDRESS),
    CU_GRAPH_DESTROY("cuGraphDestroy", ADDRESS);

    private final String apiName;
    private final List<String> symbols;
    private final FunctionDescriptor descriptor;

    DriverSymbol(String apiName, MemoryLayout... parameters) {
        this(apiName, List.of(apiName), parameters);
    }

    DriverSymbol(String apiName, List<String> symbols, MemoryLayout... parameters) {
        this.apiName = apiName;
        this.symbols = symbols;
        this.descriptor = FunctionDescriptor.of(JAVA_INT, parameters);
    }

    /** The name cuda.h declares (and #defines to the exported symbol), e.g. {@code cuMemAlloc}. */
    public String apiName() {
        return apiName;
    }

    /** Exported names to look up, preferred first, e.g. {@code [cuMemAlloc_v2]}. */
    public List<String> symbols() {
        return symbols;
    }

    /** The preferred exported name: what error messages and cuda.h's #define name. */
    public String symbol() {
        return symbols.getFirst();
    }

    public FunctionDescriptor descriptor() {
        return descriptor;
    }
}
