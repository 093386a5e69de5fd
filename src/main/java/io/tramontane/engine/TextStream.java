package io.tramontane.engine;

/** Incremental detokenization of one sequence (the tokenizer's streaming decoder behind a small seam). */
public interface TextStream {
    /** Text completed by this token (possibly empty while a UTF-8 character is incomplete). */
    String append(int token);

    /** Whatever is still held back, at the end of the sequence. */
    String flush();

    /** For token-only use (no tokenizer): every token decodes to nothing. */
    TextStream NONE = new TextStream() {
        @Override
        public String append(int token) {
            return "";
        }

        @Override
        public String flush() {
            return "";
        }
    };
}
