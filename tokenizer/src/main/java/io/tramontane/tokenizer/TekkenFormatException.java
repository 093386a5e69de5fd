package io.tramontane.tokenizer;

/** A tekken.json that cannot be used: the message names the file, the field and what was expected. */
public final class TekkenFormatException extends RuntimeException {
    public TekkenFormatException(String message) {
        super(message);
    }

    public TekkenFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
