package io.tramontane.cuda;

/**
 * A cuBLASLt call that returned a cublasStatus_t other than CUBLAS_STATUS_SUCCESS. The message names the call and
 * the status, e.g. {@code cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED (the requested functionality is not
 * supported)}.
 */
public final class CublasLtException extends RuntimeException {
    private final String call;
    private final int status;

    /**
     * @param statusName the enum name from cublasLtGetStatusName, or null when the library could not name it
     * @param description the text from cublasLtGetStatusString, or null
     */
    public CublasLtException(String call, int status, String statusName, String description) {
        super(call + " failed: " + CudaException.describe(status, statusName == null ? "cublasStatus_t " + status : statusName,
                description));
        this.call = call;
        this.status = status;
    }

    /** The function that failed, e.g. {@code cublasLtMatmul}. */
    public String call() {
        return call;
    }

    /** The numeric cublasStatus_t. */
    public int status() {
        return status;
    }
}
