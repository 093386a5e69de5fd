package io.tramontane.tokenizer.instruct;

/** A chat request that cannot be turned into a prompt; the message names the field and the rule. */
public final class InvalidRequestException extends IllegalArgumentException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
