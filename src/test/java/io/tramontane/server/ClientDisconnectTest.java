package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that goes away mid-stream frees its sequence. The request timeout is far off and every step takes
 * 5 ms, so only the disconnect can end the generation before its 4096-token context fills (20 s or more).
 */
@Timeout(120)
class ClientDisconnectTest {
    @TempDir
    static Path cache;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(cache, ServerOptions.loopback().withLimits(4096, Duration.ofMinutes(5)), 1);
        server.slowSteps(5);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aClientKilledMidStreamFreesItsSequence() throws Exception {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Go\"}], \"ignore_eos\": true,"
                + " \"stream\": true}";
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) events++;
            assertThat(events).isEqualTo(3);
            assertThat(server.model.stats().running()).as("the stream's sequence runs while its client reads")
                    .isEqualTo(1);
        }
        server.assertSequenceFreed(Duration.ofSeconds(10));
    }
}
