package io.tramontane.nccl;

/**
 * An NCCL call that returned an ncclResult_t other than ncclSuccess. The message names the call, the result
 * and NCCL's own last-error text when it has one, e.g.
 * {@code ncclAllReduce failed: ncclInvalidArgument (invalid argument): Invalid config blocking attribute value -1}.
 */
public final class NcclException extends RuntimeException {
    private static final String[] NAMES = {"ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError",
            "ncclInternalError", "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress",
            "ncclTimeout"};

    private final String call;
    private final int result;

    /** @param description ncclGetErrorString's text, or null; @param detail ncclGetLastError's text, or null/empty */
    public NcclException(String call, int result, String description, String detail) {
        super(call + " failed: " + name(result) + (description == null ? "" : " (" + description + ")")
                + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.call = call;
        this.result = result;
    }

    /** The ncclResult_t enum name of {@code result} (nccl.h), or "ncclResult_t N" for one this version does not know. */
    static String name(int result) {
        return result >= 0 && result < NAMES.length ? NAMES[result] : "ncclResult_t " + result;
    }

    public String call() {
        return call;
    }

    public int result() {
        return result;
    }
}
