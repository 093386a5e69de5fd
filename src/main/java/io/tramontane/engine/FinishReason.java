package io.tramontane.engine;

/** Why a generation ended, in OpenAI's words where they exist. */
public enum FinishReason {
    /** End-of-sequence token, a stop token or a stop string. */
    STOP,
    /** max_tokens reached, or the context is full. */
    LENGTH,
    /** The caller cancelled (client disconnected). */
    CANCELLED,
    /** The engine failed; the error is reported with it. */
    ERROR;

    public String openAiName() {
        return switch (this) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "cancelled";
            case ERROR -> "error";
        };
    }
}
