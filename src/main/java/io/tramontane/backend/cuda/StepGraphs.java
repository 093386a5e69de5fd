package io.tramontane.backend.cuda;

import io.tramontane.backend.TrialPolicy;
import io.tramontane.cuda.CaptureMode;
import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.CudaException;
import io.tramontane.cuda.Graph;
import io.tramontane.cuda.GraphExec;
import io.tramontane.cuda.Stream;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decode steps as CUDA graphs, one executable graph per step size (tokens in the step: the batch-size buckets). A
 * decode step is hundreds of small kernels; launched one by one, the GPU idles between them for about the launch
 * latency each. So a step of at most {@link #MAX_TOKENS} tokens is captured from its first op (the embedding) to
 * the end of the forward ({@code Backend.submit}, which every rank reaches, even one that reads nothing back) or an
 * earlier point where the host must wait for the stream; there the capture becomes a
 * graph, which updates the step size's executable graph in place (cuGraphExecUpdate: same kernels, new arguments)
 * or, when its shape changed, replaces it; then the graph is launched. Capturing every step, rather than replaying
 * one recording, keeps whatever the step's arguments are (activation buffers from the pool, attention plans that
 * grow with the context) exact without having to make them stable (the approach of llama.cpp's CUDA backend).
 * Larger steps (prefill) run kernel by kernel: their kernels are long enough that launch gaps do not matter.
 */
final class StepGraphs implements AutoCloseable {
    static final int MAX_TOKENS = 64;
    private static final Logger log = LoggerFactory.getLogger(StepGraphs.class);

    /** The driver calls graphs need, on the backend's stream (an interface so the bookkeeping is tested without a GPU). */
    interface Driver {
        void beginCapture();

        Graph endCapture();

        /** False when the executable cannot take the graph's shape (instantiate anew). */
        boolean update(GraphExec executable, Graph graph);

        GraphExec instantiate(Graph graph);

        void launch(GraphExec executable);

        void destroy(GraphExec executable);

        void destroy(Graph graph);

        static Driver of(CudaDriver driver, Stream stream) {
            return new Driver() {
                public void beginCapture() {
                    driver.streamBeginCapture(stream, CaptureMode.RELAXED);
                }

                public Graph endCapture() {
                    return driver.streamEndCapture(stream);
                }

                public boolean update(GraphExec executable, Graph graph) {
                    return driver.graphExecUpdate(executable, graph);
                }

                public GraphExec instantiate(Graph graph) {
                    return driver.graphInstantiate(graph);
                }

                public void launch(GraphExec executable) {
                    driver.graphLaunch(executable, stream);
                }

                public void destroy(GraphExec executable) {
                    driver.graphExecDestroy(executable);
                }

                public void destroy(Graph graph) {
                    driver.graphDestroy(graph);
                }
            };
        }
    }

    private final Driver driver;
    private final GraphChoice choice;
    private final Runnable abandoned;
    private final Map<Integer, GraphExec> executables = new HashMap<>();
    private boolean enabled;
    private int capturing = -1;  // the step size being captured, or -1
    private long launches, updates, instantiations;

    /**
     * @param choice    which decode-sized steps to capture ({@link TrialPolicy#OFF}: none)
     * @param abandoned called when a capture is dropped unlaunched: what it recorded as uploaded never happened
     */
    StepGraphs(Driver driver, GraphChoice choice, Runnable abandoned) {
        this.driver = driver;
        this.choice = choice;
        this.enabled = true;
        this.abandoned = abandoned;
    }

    /**
     * At the first op of a forward of {@code tokens} tokens: the ops from here on are captured if it is decode-sized
     * and the choice says so.
     */
    void begin(int tokens) {
        if (capturing >= 0) abandon();  // the last forward failed before it reached a wait: it never ran
        if (!enabled || tokens > MAX_TOKENS) {
            choice.interrupt();
            return;
        }
        if (!choice.graph(tokens)) return;
        driver.beginCapture();
        capturing = tokens;
    }

    /** Before the host waits for the stream (or enqueues work that cannot be captured): launch what was captured. */
    void flush() {
        if (capturing < 0) return;
        int tokens = capturing;
        capturing = -1;
        Graph graph;
        try {
            graph = driver.endCapture();
        } catch (CudaException e) {  // an op of the step could not be captured: run later steps kernel by kernel
            enabled = false;
            abandoned.run();
            throw new IllegalStateException("capturing a " + tokens + "-token step as a CUDA graph failed ("
                    + e.getMessage() + "); the backend runs later steps without graphs", e);
        }
        try {
            GraphExec executable = executables.get(tokens);
            if (executable != null && driver.update(executable, graph)) {
                updates++;
            } else {
                if (executable != null) driver.destroy(executable);
                executables.remove(tokens);
                executable = driver.instantiate(graph);
                executables.put(tokens, executable);
                instantiations++;
            }
            driver.launch(executable);
            launches++;
        } catch (CudaException e) {  // the step did not run: later steps run kernel by kernel
            enabled = false;
            abandoned.run();
            GraphExec broken = executables.remove(tokens);
            if (broken != null) driver.destroy(broken);
            throw new IllegalStateException("running a " + tokens + "-token step as a CUDA graph failed ("
                    + e.getMessage() + "); the backend runs later steps without graphs", e);
        } finally {
            driver.destroy(graph);
        }
    }

    private void abandon() {
        capturing = -1;
        abandoned.run();
        try {
            driver.destroy(driver.endCapture());
        } catch (CudaException e) {
            log.warn("dropping an unfinished CUDA graph capture: {}", e.getMessage());
        }
    }

    boolean enabled() {
        return enabled;
    }

    /** Graphs launched, executables updated in place, executables instantiated (the GPU checks' evidence). */
    long[] counts() {
        return new long[] {launches, updates, instantiations};
    }

    @Override
    public void close() {
        if (capturing >= 0) abandon();
        for (GraphExec executable : executables.values()) driver.destroy(executable);
        executables.clear();
    }
}
