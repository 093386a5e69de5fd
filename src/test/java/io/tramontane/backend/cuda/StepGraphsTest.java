package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.TrialPolicy;
import io.tramontane.cuda.CudaException;
import io.tramontane.cuda.Graph;
import io.tramontane.cuda.GraphExec;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bookkeeping of decode steps as CUDA graphs, against a recording driver (no GPU needed). */
class StepGraphsTest {
    /** Records the calls; graphs and executables are numbered handles. */
    private static final class Recording implements StepGraphs.Driver {
        final List<String> calls = new ArrayList<>();
        boolean updates = true, captureFails, launchFails;
        long next = 0x100;

        public void beginCapture() {
            calls.add("begin");
        }

        public Graph endCapture() {
            calls.add("end");
            if (captureFails) throw new CudaException("cuStreamEndCapture", 901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", null);
            return new Graph(MemorySegment.ofAddress(next++));
        }

        public boolean update(GraphExec executable, Graph graph) {
            calls.add("update " + executable.handle().address());
            return updates;
        }

        public GraphExec instantiate(Graph graph) {
            long handle = 0x1000 + graph.handle().address();
            calls.add("instantiate " + handle);
            return new GraphExec(MemorySegment.ofAddress(handle));
        }

        public void launch(GraphExec executable) {
            calls.add("launch " + executable.handle().address());
            if (launchFails) throw new CudaException("cuGraphLaunch", 1, "CUDA_ERROR_INVALID_VALUE", null);
        }

        public void destroy(GraphExec executable) {
            calls.add("destroy exec " + executable.handle().address());
        }

        public void destroy(Graph graph) {
            calls.add("destroy graph");
        }
    }

    private final Recording driver = new Recording();
    private int forgotten;
    private final StepGraphs graphs = new StepGraphs(driver, new GraphChoice(TrialPolicy.ON, System::nanoTime), () -> forgotten++);

    @Test
    void eachStepSizeInstantiatesOnceThenUpdatesInPlace() {
        graphs.begin(4);
        graphs.flush();
        graphs.begin(4);
        graphs.flush();
        graphs.begin(2);
        graphs.flush();
        assertThat(driver.calls).containsExactly(
                "begin", "end", "instantiate 4352", "launch 4352", "destroy graph",
                "begin", "end", "update 4352", "launch 4352", "destroy graph",
                "begin", "end", "instantiate 4354", "launch 4354", "destroy graph");
        assertThat(graphs.counts()).containsExactly(3, 1, 2);
    }

    @Test
    void aStepWhoseShapeChangedReplacesItsExecutable() {
        graphs.begin(4);
        graphs.flush();
        driver.updates = false;
        graphs.begin(4);
        graphs.flush();
        assertThat(driver.calls.subList(5, driver.calls.size()))
                .containsExactly("begin", "end", "update 4352", "destroy exec 4352", "instantiate 4353", "launch 4353", "destroy graph");
    }

    @Test
    void prefillSizedStepsAndDisabledGraphsRunKernelByKernel() {
        graphs.begin(StepGraphs.MAX_TOKENS + 1);
        graphs.flush();
        new StepGraphs(driver, new GraphChoice(TrialPolicy.OFF, System::nanoTime), () -> {}).begin(1);
        assertThat(driver.calls).isEmpty();
        graphs.flush();  // nothing captured: nothing to do
        assertThat(driver.calls).isEmpty();
    }

    @Test
    void aForwardThatFailedBeforeItsWaitIsDroppedAndItsUploadsForgotten() {
        graphs.begin(4);
        graphs.begin(4);  // the previous forward never reached a flush
        assertThat(driver.calls).containsExactly("begin", "end", "destroy graph", "begin");
        assertThat(forgotten).isEqualTo(1);
    }

    @Test
    void aCaptureTheDriverRefusesTurnsGraphsOffWithAClearError() {
        graphs.begin(4);
        driver.captureFails = true;
        assertThatThrownBy(graphs::flush).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("capturing a 4-token step as a CUDA graph failed")
                .hasMessageContaining("later steps without graphs");
        assertThat(graphs.enabled()).isFalse();
        assertThat(forgotten).isEqualTo(1);
        driver.calls.clear();
        graphs.begin(4);
        graphs.flush();
        assertThat(driver.calls).isEmpty();
    }

    @Test
    void aGraphThatCannotRunIsDestroyedAndGraphsTurnOff() {
        driver.launchFails = true;
        graphs.begin(4);
        assertThatThrownBy(graphs::flush).hasMessageStartingWith("running a 4-token step as a CUDA graph failed");
        assertThat(driver.calls).containsExactly("begin", "end", "instantiate 4352", "launch 4352", "destroy exec 4352",
                "destroy graph");
        assertThat(graphs.enabled()).isFalse();
        assertThat(forgotten).isEqualTo(1);
        graphs.close();
        assertThat(driver.calls).hasSize(6);  // nothing left to destroy
    }

    @Test
    void autoCapturesOnlyTheStepsItsTrialChose() {
        long[] now = {0};
        StepGraphs auto = new StepGraphs(driver, new GraphChoice(TrialPolicy.AUTO, () -> now[0]), () -> {});
        int captured = 0;
        for (int step = 0; step < 4 * GraphChoice.TRIAL; step++) {
            int before = driver.calls.size();
            auto.begin(1);
            auto.flush();
            if (driver.calls.size() > before) captured++;
            now[0] += 1_000_000;  // both modes take 1 ms: graphs are not faster, so the trial settles on kernel by kernel
        }
        assertThat(captured).isEqualTo(GraphChoice.TRIAL);
    }

    @Test
    void closingDestroysTheExecutables() {
        graphs.begin(4);
        graphs.flush();
        graphs.begin(8);
        graphs.close();
        assertThat(driver.calls.subList(5, driver.calls.size()))
                .containsExactly("begin", "end", "destroy graph", "destroy exec 4352");
    }
}
