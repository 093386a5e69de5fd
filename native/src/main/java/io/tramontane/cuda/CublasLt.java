package io.tramontane.cuda;

import static io.tramontane.cuda.CublasLtSymbol.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * cuBLASLt through java.lang.foreign: one checked Java method per {@link CublasLtSymbol}; a status other than
 * CUBLAS_STATUS_SUCCESS becomes a {@link CublasLtException} naming the call and the status. Used only as the GPU
 * check's oracle and speed baseline ({@link CublasLtGemm}), never by the engine. Obtain it from
 * {@link CublasLtProbe#probe()}. cuBLASLt runs in the CUDA context current on the calling thread; its streams are
 * driver streams ({@code cudaStream_t} and {@code CUstream} are the same handle).
 */
public final class CublasLt {
    private static final int CUBLAS_STATUS_SUCCESS = 0;

    // ---- enum values (cublasLt.h, cublas_api.h; CublasLtHeaderTest checks them)

    /** cublasComputeType_t CUBLAS_COMPUTE_32F: FP32 accumulation, the only compute type FP8 inputs allow. */
    public static final int COMPUTE_32F = 68;
    /** cublasOperation_t. */
    public static final int OP_N = 0, OP_T = 1;
    /** cublasLtMatmulDescAttributes_t: int32 transposes, then device pointers to the FP8 per-tensor scales. */
    public static final int MATMUL_DESC_TRANSA = 3, MATMUL_DESC_TRANSB = 4,
            MATMUL_DESC_A_SCALE_POINTER = 17, MATMUL_DESC_B_SCALE_POINTER = 18;
    /** cublasLtMatmulPreferenceAttributes_t: uint64 workspace limit, uint32 minimum pointer alignments. */
    public static final int MATMUL_PREF_MAX_WORKSPACE_BYTES = 1, MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,
            MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6, MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
            MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8;

    /** cublasLtMatmulAlgo_t: uint64_t data[8], opaque. */
    public static final long ALGO_BYTES = 64;
    /**
     * cublasLtMatmulHeuristicResult_t: the algo, size_t workspaceSize, cublasStatus_t state, float wavesCount,
     * int reserved[4] (96 bytes).
     */
    public static final StructLayout HEURISTIC_RESULT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(ALGO_BYTES, JAVA_BYTE).withName("algo"),
            JAVA_LONG.withName("workspaceSize"), JAVA_INT.withName("state"), JAVA_FLOAT.withName("wavesCount"),
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("reserved"));

    /** One algorithm cublasLtMatmulAlgoGetHeuristic proposed: its opaque descriptor and the workspace it needs. */
    public record Heuristic(MemorySegment algo, long workspaceBytes, float waves) {}

    private final MethodHandle[] handles = new MethodHandle[CublasLtSymbol.values().length];

    private CublasLt(SymbolLookup library) {
        Linker linker = Linker.nativeLinker();
        for (CublasLtSymbol function : CublasLtSymbol.values()) {
            MemorySegment address = library.find(function.apiName())
                    .orElseThrow(() -> new IllegalStateException("does not export " + function.apiName()));
            handles[function.ordinal()] = linker.downcallHandle(address, function.descriptor());
        }
    }

    /** Binds every {@link CublasLtSymbol} in {@code library}; IllegalStateException names a missing one. */
    static CublasLt bind(SymbolLookup library) {
        return new CublasLt(library);
    }

    // ---- library

    /** cublasLtGetVersion: major * 10000 + minor * 100 + patch, e.g. 130100. */
    public long version() {
        try {
            return (long) handle(GET_VERSION).invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** "13.1.0" from {@link #version()}. */
    public static String versionText(long version) {
        return version / 10000 + "." + version / 100 % 100 + "." + version % 100;
    }

    /** cublasLtGetStatusName, e.g. CUBLAS_STATUS_NOT_SUPPORTED; null when the library returns none. */
    public String statusName(int status) {
        return text(GET_STATUS_NAME, status);
    }

    /** cublasLtGetStatusString; null when the library returns none. */
    public String statusString(int status) {
        return text(GET_STATUS_STRING, status);
    }

    /** A new cuBLASLt handle (cublasLtCreate), for the device of the current context. */
    public CublasLtHandle create() {
        return new CublasLtHandle(outAddress(CREATE, out -> (int) handle(CREATE).invokeExact(out)));
    }

    public void destroy(CublasLtHandle lt) {
        check(DESTROY, () -> (int) handle(DESTROY).invokeExact(lt.handle()));
    }

    // ---- descriptors

    /** cublasLtMatmulDescCreate with a compute type ({@link #COMPUTE_32F}) and the type of alpha/beta. */
    public MemorySegment matmulDescCreate(int computeType, CudaDataType scaleType) {
        return outAddress(MATMUL_DESC_CREATE,
                out -> (int) handle(MATMUL_DESC_CREATE).invokeExact(out, computeType, scaleType.value));
    }

    public void matmulDescDestroy(MemorySegment desc) {
        check(MATMUL_DESC_DESTROY, () -> (int) handle(MATMUL_DESC_DESTROY).invokeExact(desc));
    }

    /** Sets an int32 attribute of a matmul descriptor (transposes). */
    public void matmulDescSetInt(MemorySegment desc, int attribute, int value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(JAVA_INT, value);
            setDescAttribute(desc, attribute, buffer);
        }
    }

    /** Sets a pointer attribute of a matmul descriptor to a device address (the FP8 scale pointers). */
    public void matmulDescSetPointer(MemorySegment desc, int attribute, long deviceAddress) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(JAVA_LONG, deviceAddress);
            setDescAttribute(desc, attribute, buffer);
        }
    }

    private void setDescAttribute(MemorySegment desc, int attribute, MemorySegment buffer) {
        check(MATMUL_DESC_SET_ATTRIBUTE, () -> (int) handle(MATMUL_DESC_SET_ATTRIBUTE)
                .invokeExact(desc, attribute, buffer, buffer.byteSize()));
    }

    /** A column-major layout of {@code rows x cols} elements of {@code type}, columns {@code ld} elements apart. */
    public MemorySegment matrixLayoutCreate(CudaDataType type, long rows, long cols, long ld) {
        return outAddress(MATRIX_LAYOUT_CREATE,
                out -> (int) handle(MATRIX_LAYOUT_CREATE).invokeExact(out, type.value, rows, cols, ld));
    }

    public void matrixLayoutDestroy(MemorySegment layout) {
        check(MATRIX_LAYOUT_DESTROY, () -> (int) handle(MATRIX_LAYOUT_DESTROY).invokeExact(layout));
    }

    public MemorySegment preferenceCreate() {
        return outAddress(MATMUL_PREFERENCE_CREATE, out -> (int) handle(MATMUL_PREFERENCE_CREATE).invokeExact(out));
    }

    public void preferenceDestroy(MemorySegment preference) {
        check(MATMUL_PREFERENCE_DESTROY, () -> (int) handle(MATMUL_PREFERENCE_DESTROY).invokeExact(preference));
    }

    /** Sets a uint64 preference ({@link #MATMUL_PREF_MAX_WORKSPACE_BYTES}). */
    public void preferenceSetLong(MemorySegment preference, int attribute, long value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(JAVA_LONG, value);
            setPreference(preference, attribute, buffer);
        }
    }

    /** Sets a uint32 preference (the minimum alignments). */
    public void preferenceSetInt(MemorySegment preference, int attribute, int value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(JAVA_INT, value);
            setPreference(preference, attribute, buffer);
        }
    }

    private void setPreference(MemorySegment preference, int attribute, MemorySegment buffer) {
        check(MATMUL_PREFERENCE_SET_ATTRIBUTE, () -> (int) handle(MATMUL_PREFERENCE_SET_ATTRIBUTE)
                .invokeExact(preference, attribute, buffer, buffer.byteSize()));
    }

    // ---- matmul

    /**
     * Up to {@code requested} algorithms for the operation and layouts (a, b, c, d), fastest first by cuBLASLt's
     * estimate; results whose state is not success are dropped. Each algo lives in {@code arena}.
     */
    public List<Heuristic> algoGetHeuristic(CublasLtHandle lt, MemorySegment desc, MemorySegment a, MemorySegment b,
                                            MemorySegment c, MemorySegment d, MemorySegment preference, int requested,
                                            Arena arena) {
        if (requested <= 0) throw new IllegalArgumentException("requested algorithm count must be positive: " + requested);
        MemorySegment results = arena.allocate(HEURISTIC_RESULT, requested);
        List<Heuristic> heuristics = new ArrayList<>();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment returned = local.allocate(JAVA_INT);
            check(MATMUL_ALGO_GET_HEURISTIC, () -> (int) handle(MATMUL_ALGO_GET_HEURISTIC)
                    .invokeExact(lt.handle(), desc, a, b, c, d, preference, requested, results, returned));
            int count = Math.min(returned.get(JAVA_INT, 0), requested);
            for (int i = 0; i < count; i++) {
                MemorySegment result = results.asSlice(i * HEURISTIC_RESULT.byteSize(), HEURISTIC_RESULT);
                if (result.get(JAVA_INT, offset("state")) != CUBLAS_STATUS_SUCCESS) continue;
                heuristics.add(new Heuristic(result.asSlice(offset("algo"), ALGO_BYTES),
                        result.get(JAVA_LONG, offset("workspaceSize")), result.get(JAVA_FLOAT, offset("wavesCount"))));
            }
        }
        return heuristics;
    }

    /**
     * D = alpha * op(A) op(B) + beta * C on {@code stream}, asynchronously. Matrices are device addresses; alpha and
     * beta are FP32 host values (the default pointer mode and an FP32 scale type).
     */
    public void matmul(CublasLtHandle lt, MemorySegment desc, float alpha, long a, MemorySegment aLayout, long b,
                       MemorySegment bLayout, float beta, long c, MemorySegment cLayout, long d, MemorySegment dLayout,
                       MemorySegment algo, long workspace, long workspaceBytes, Stream stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaValue = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaValue = arena.allocateFrom(JAVA_FLOAT, beta);
            check(MATMUL, () -> (int) handle(MATMUL).invokeExact(lt.handle(), desc, alphaValue,
                    device(a), aLayout, device(b), bLayout, betaValue, device(c), cLayout, device(d), dLayout,
                    algo, device(workspace), workspaceBytes, stream.handle()));
        }
    }

    private static long offset(String field) {
        return HEURISTIC_RESULT.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    private static MemorySegment device(long address) {
        return MemorySegment.ofAddress(address);
    }

    // ---- plumbing (StatusCalls)

    private MethodHandle handle(CublasLtSymbol function) {
        return handles[function.ordinal()];
    }

    private void check(CublasLtSymbol function, StatusCalls.Call call) {
        int status = StatusCalls.invoke(call);
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CublasLtException(function.apiName(), status, statusName(status), statusString(status));
        }
    }

    private MemorySegment outAddress(CublasLtSymbol function, StatusCalls.OutCall call) {
        return StatusCalls.outAddress(c -> check(function, c), call);
    }

    private String text(CublasLtSymbol function, int status) {
        try {
            return StatusCalls.text((MemorySegment) handle(function).invokeExact(status));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("downcall threw a checked exception", t);  // downcalls do not
    }
}
