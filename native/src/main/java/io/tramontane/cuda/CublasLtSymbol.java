package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;

/**
 * Every libcublasLt function Tramontane calls (the GEMM baseline of the GPU check; never the engine's path): the
 * name cublasLt.h declares, which is also the exported symbol, and the C signature. Most return a cublasStatus_t
 * (C int); the status texts return {@code const char*} and the version a size_t.
 *
 * <p>C types: int, uint32 enums and cudaDataType are JAVA_INT; size_t, uint64_t and int64_t are JAVA_LONG (LP64);
 * pointers, the opaque handles/descriptors (cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
 * cublasLtMatmulPreference_t) and cudaStream_t are ADDRESS. {@code CublasLtHeaderTest} checks this against
 * cublasLt.h where a toolkit with cuBLAS is installed.
 */
public enum CublasLtSymbol {
    CREATE("cublasLtCreate", JAVA_INT, ADDRESS),
    DESTROY("cublasLtDestroy", JAVA_INT, ADDRESS),
    GET_STATUS_NAME("cublasLtGetStatusName", ADDRESS, JAVA_INT),
    GET_STATUS_STRING("cublasLtGetStatusString", ADDRESS, JAVA_INT),
    GET_VERSION("cublasLtGetVersion", JAVA_LONG),

    // out descriptor, cublasComputeType_t, cudaDataType_t scale type
    MATMUL_DESC_CREATE("cublasLtMatmulDescCreate", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
    MATMUL_DESC_DESTROY("cublasLtMatmulDescDestroy", JAVA_INT, ADDRESS),
    // descriptor, attribute, const void* value, size_t size of the value
    MATMUL_DESC_SET_ATTRIBUTE("cublasLtMatmulDescSetAttribute", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG),

    // out layout, cudaDataType, uint64_t rows, uint64_t cols, int64_t leading dimension
    MATRIX_LAYOUT_CREATE("cublasLtMatrixLayoutCreate", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG),
    MATRIX_LAYOUT_DESTROY("cublasLtMatrixLayoutDestroy", JAVA_INT, ADDRESS),

    MATMUL_PREFERENCE_CREATE("cublasLtMatmulPreferenceCreate", JAVA_INT, ADDRESS),
    MATMUL_PREFERENCE_DESTROY("cublasLtMatmulPreferenceDestroy", JAVA_INT, ADDRESS),
    MATMUL_PREFERENCE_SET_ATTRIBUTE("cublasLtMatmulPreferenceSetAttribute", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG),

    // handle, operation, A/B/C/D layouts, preference, int requested, results array, int* returned
    MATMUL_ALGO_GET_HEURISTIC("cublasLtMatmulAlgoGetHeuristic", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS),
    // handle, operation, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, algo, workspace, size_t workspace
    // bytes, stream
    MATMUL("cublasLtMatmul", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);

    private final String apiName;
    private final FunctionDescriptor descriptor;

    CublasLtSymbol(String apiName, MemoryLayout result, MemoryLayout... parameters) {
        this.apiName = apiName;
        this.descriptor = FunctionDescriptor.of(result, parameters);
    }

    /** The name cublasLt.h declares and libcublasLt exports, e.g. {@code cublasLtMatmul}. */
    public String apiName() {
        return apiName;
    }

    public FunctionDescriptor descriptor() {
        return descriptor;
    }
}
