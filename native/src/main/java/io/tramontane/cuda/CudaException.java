package io.tramontane.cuda;

/**
 * A CUDA driver call that returned a CUresult other than CUDA_SUCCESS. The message names the exported
 * symbol that was called and the result, e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int result;
    private final String resultName;

    /**
     * @param resultName the enum name from cuGetErrorName, or null when the driver could not name it
     * @param description the text from cuGetErrorString, or null
     */
    public CudaException(String call, int result, String resultName, String description) {
        super(call + " failed: " + describe(result, resultName, description));
        this.call = call;
        this.result = result;
        this.resultName = resultName != null ? resultName : "CUresult " + result;
    }

    /** How a CUresult reads in messages: {@code CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)}. */
    static String describe(int result, String name, String description) {
        String named = name != null ? name : "CUresult " + result;
        return description != null ? named + " (" + description + ")" : named;
    }

    /** The exported symbol that failed, e.g. {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    /** The numeric CUresult. */
    public int result() {
        return result;
    }

    /** The CUresult's enum name (e.g. {@code CUDA_ERROR_NO_DEVICE}), or {@code CUresult N} when unnamed. */
    public String resultName() {
        return resultName;
    }

    /** The result and its description without the call, e.g. for a probe's reason. */
    public String resultText() {
        String message = getMessage();
        return message.substring(message.indexOf(": ") + 2);
    }
}
