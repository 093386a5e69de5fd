package io.tramontane.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;

/**
 * Every libnccl function Tramontane calls, with its C signature from nccl.h (NCCL 2.18+). Most return an
 * ncclResult_t (C int); the two error-text functions return a {@code const char*}. C types: int and the enums
 * (ncclDataType_t, ncclRedOp_t) are JAVA_INT, size_t is JAVA_LONG, pointers, device buffers and the opaque
 * ncclComm_t / cudaStream_t are ADDRESS. {@code NcclSymbolHeaderTest} checks this against nccl.h where one is found.
 */
public enum NcclSymbol {
    GET_VERSION("ncclGetVersion", JAVA_INT, ADDRESS),
    GET_ERROR_STRING("ncclGetErrorString", ADDRESS, JAVA_INT),
    GET_LAST_ERROR("ncclGetLastError", ADDRESS, ADDRESS),
    // ncclComm_t* comms, int ndev, const int* devlist
    COMM_INIT_ALL("ncclCommInitAll", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
    COMM_DESTROY("ncclCommDestroy", JAVA_INT, ADDRESS),
    COMM_ABORT("ncclCommAbort", JAVA_INT, ADDRESS),
    COMM_COUNT("ncclCommCount", JAVA_INT, ADDRESS, ADDRESS),
    COMM_USER_RANK("ncclCommUserRank", JAVA_INT, ADDRESS, ADDRESS),
    COMM_GET_ASYNC_ERROR("ncclCommGetAsyncError", JAVA_INT, ADDRESS, ADDRESS),
    // sendbuff, recvbuff, count, datatype, op, comm, stream
    ALL_REDUCE("ncclAllReduce", JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
    // sendbuff, recvbuff, sendcount, datatype, comm, stream
    ALL_GATHER("ncclAllGather", JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS),
    GROUP_START("ncclGroupStart", JAVA_INT),
    GROUP_END("ncclGroupEnd", JAVA_INT);

    /** ncclFloat32 and ncclInt32 of ncclDataType_t, ncclSum of ncclRedOp_t. */
    static final int FLOAT32 = 7, INT32 = 2, SUM = 0;

    private final String symbol;
    private final FunctionDescriptor descriptor;

    NcclSymbol(String symbol, MemoryLayout result, MemoryLayout... parameters) {
        this.symbol = symbol;
        this.descriptor = FunctionDescriptor.of(result, parameters);
    }

    /** The exported (and declared) name, e.g. {@code ncclAllReduce}. */
    public String symbol() {
        return symbol;
    }

    public FunctionDescriptor descriptor() {
        return descriptor;
    }
}
