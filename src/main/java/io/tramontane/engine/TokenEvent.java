package io.tramontane.engine;

import io.tramontane.sampling.Sampler;

/**
 * One step of a generation as its listener sees it: the sampled token (or -1 on the final event when
 * nothing new was sampled), the text it completed (held back while it may be part of a stop string or
 * of an incomplete UTF-8 character), and the finish reason on the last event.
 */
public record TokenEvent(int token, String text, Sampler.Sample sample, FinishReason finish, Throwable error) {
    public boolean isLast() {
        return finish != null;
    }
}
