package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.TrialPolicy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphChoiceTest {
    private long now;

    /** Runs {@code steps} steps of {@code tokens} tokens, each taking {@code graphNanos} as a graph, else {@code eagerNanos}. */
    private List<Boolean> run(GraphChoice choice, int tokens, int steps, long graphNanos, long eagerNanos) {
        List<Boolean> modes = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            boolean graph = choice.graph(tokens);
            modes.add(graph);
            now += graph ? graphNanos : eagerNanos;
        }
        return modes;
    }

    @Test
    void autoTimesEachModeThenKeepsTheFasterOne() {
        GraphChoice faster = new GraphChoice(TrialPolicy.AUTO, () -> now);
        List<Boolean> modes = run(faster, 1, 3 * GraphChoice.TRIAL, 1_000_000, 1_600_000);
        assertThat(modes.subList(0, GraphChoice.TRIAL)).containsOnly(false);
        assertThat(modes.subList(GraphChoice.TRIAL, 2 * GraphChoice.TRIAL)).containsOnly(true);
        assertThat(modes.subList(2 * GraphChoice.TRIAL, modes.size())).containsOnly(true);
        assertThat(faster.decided(1)).isTrue();

        GraphChoice slower = new GraphChoice(TrialPolicy.AUTO, () -> now);
        modes = run(slower, 1, 3 * GraphChoice.TRIAL, 19_000_000, 17_400_000);  // the Devstral decode on the H200
        assertThat(modes.subList(2 * GraphChoice.TRIAL, modes.size())).containsOnly(false);
        assertThat(slower.decided(1)).isFalse();
    }

    @Test
    void oneSlowFirstStepPerModeDoesNotDecide() {
        GraphChoice choice = new GraphChoice(TrialPolicy.AUTO, () -> now);
        // the first step of each mode pays for warm-up or instantiation; the medians see through it
        for (int i = 0; i < 2 * GraphChoice.TRIAL; i++) {
            boolean graph = choice.graph(4);
            boolean first = i == 0 || i == GraphChoice.TRIAL;
            now += first ? 50_000_000 : graph ? 1_000_000 : 2_000_000;
        }
        choice.graph(4);
        assertThat(choice.decided(4)).isTrue();
    }

    @Test
    void periodsSpanningAnotherStepSizeAreNotCountedAndTooFewLeaveGraphsOn() {
        GraphChoice choice = new GraphChoice(TrialPolicy.AUTO, () -> now);
        for (int i = 0; i < 3 * GraphChoice.TRIAL; i++) {
            boolean graph = choice.graph(2);
            now += graph ? 9_000_000 : 1_000_000;  // graphs would look slower, but no period is ever complete
            choice.interrupt();  // a prefill between every two decode steps
            now += 100_000_000;
        }
        assertThat(choice.decided(2)).isTrue();
    }

    @Test
    void stepSizesAreTimedApart() {
        GraphChoice choice = new GraphChoice(TrialPolicy.AUTO, () -> now);
        run(choice, 1, 2 * GraphChoice.TRIAL + 1, 1_000_000, 3_000_000);
        run(choice, 8, 2 * GraphChoice.TRIAL + 1, 5_000_000, 3_000_000);
        assertThat(choice.decided(1)).isTrue();
        assertThat(choice.decided(8)).isFalse();
        assertThat(choice.decided(16)).isNull();
    }

    @Test
    void onAndOffIgnoreTheClock() {
        assertThat(run(new GraphChoice(TrialPolicy.ON, () -> now), 1, 12, 9, 1)).containsOnly(true);
        assertThat(run(new GraphChoice(TrialPolicy.OFF, () -> now), 1, 12, 1, 9)).containsOnly(false);
    }

    @Test
    void theEnvironmentNamesThePolicy() {
        assertThat(TrialPolicy.parse("TRAMONTANE_CUDA_GRAPHS", null)).isEqualTo(TrialPolicy.AUTO);
        assertThat(TrialPolicy.parse("TRAMONTANE_CUDA_GRAPHS", "0")).isEqualTo(TrialPolicy.OFF);
        assertThat(TrialPolicy.parse("TRAMONTANE_CUDA_GRAPHS", " On ")).isEqualTo(TrialPolicy.ON);
        assertThat(TrialPolicy.parse("TRAMONTANE_CUDA_GRAPHS", "auto")).isEqualTo(TrialPolicy.AUTO);
        assertThatThrownBy(() -> TrialPolicy.parse("TRAMONTANE_CUDA_GRAPHS", "maybe")).hasMessageContaining("TRAMONTANE_CUDA_GRAPHS")
                .hasMessageContaining("'maybe'");
    }
}
