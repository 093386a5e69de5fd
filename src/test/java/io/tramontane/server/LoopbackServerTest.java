package io.tramontane.server;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class whose tests share one demo-model server on a loopback port with the default options: started before
 * the class's first test, closed after its last (classes run one after another, so each has its own).
 */
abstract class LoopbackServerTest {
    @TempDir
    static Path cache;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(cache, ServerOptions.loopback());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }
}
