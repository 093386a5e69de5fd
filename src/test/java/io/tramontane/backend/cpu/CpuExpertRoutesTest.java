package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.Activation;
import io.tramontane.backend.ExpertRoutes;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Mixtral routing on the CPU (MODELS.md 5.9) and the routed MoE ops: ties to the lower expert, softmax over the
 * selection, the (expert, token) order; and an MoE FFN through routeExperts / gatherRouted / expertLinear /
 * combineRouted bit-identical to running each expert's tokens through gatherRows / linear and adding its weighted rows back.
 */
class CpuExpertRoutesTest {

    @Test
    void topKTakesTheLargestLogitsAndTiesGoToTheLowerExpert() {
        int[] chosen = new int[3];
        CpuExpertRoutes.selectTopK(new float[] {1, 3, 3, 0, 3}, chosen);
        assertThat(chosen).containsExactly(1, 2, 4);
        CpuExpertRoutes.selectTopK(new float[] {-1, -2, 5, -1, -1}, chosen);
        assertThat(chosen).containsExactly(2, 0, 3);
    }

    @Test
    void routesHoldTheSelectionTheirWeightsAndTheExpertOrder() {
        float[] logits = {
            1, 3, 3, 0,   // token 0: experts 1, 2 at equal weight
            2, 0, 2, 5,   // token 1: experts 3, 0
            0, 0, 0, 0};  // token 2: experts 0, 1
        CpuExpertRoutes r = CpuExpertRoutes.route(logits, 3, 4, 2);
        assertThat(r.expert()).containsExactly(1, 2, 3, 0, 0, 1);
        double sum = 1 + Math.exp(-3);  // token 1: softmax over logits 5 and 2
        assertThat(r.weight()).containsExactly(0.5f, 0.5f, (float) (1 / sum), (float) (Math.exp(-3) / sum), 0.5f, 0.5f);
        // sorted by expert, then token: expert 0 gets slots 3 (token 1) and 4 (token 2); expert 1 slots 0 and 5; ...
        assertThat(r.order()).containsExactly(3, 4, 0, 5, 1, 2);
        assertThat(r.offsets()).containsExactly(0, 2, 4, 5, 6);
        for (int i = 0; i < r.rows(); i++) assertThat(r.position()[r.order()[i]]).isEqualTo(i);
        assertThat(IntStream.range(0, 6).map(r::token).toArray()).containsExactly(1, 2, 0, 2, 0, 1);
        assertThatThrownBy(() -> CpuExpertRoutes.route(logits, 3, 4, 5)).hasMessageContaining("top-k 5 of 4 experts");
    }

    @ParameterizedTest
    @EnumSource(CpuWeights.class)
    void routedFfnIsBitIdenticalToThePerExpertLoop(CpuWeights format) {
        int tokens = 13, experts = 8, topK = 2, dim = 64, hidden = 96;
        SplittableRandom random = new SplittableRandom(42 + format.ordinal());
        try (CpuBackend cpu = new CpuBackend(new CpuBackend.Options(2, true, format))) {
            List<List<Linear>> w = new ArrayList<>();  // w1, w3, w2 of every expert
            for (int[] shape : new int[][] {{hidden, dim}, {hidden, dim}, {dim, hidden}}) {
                w.add(IntStream.range(0, experts).mapToObj(e -> Linear.of(QuantizedWeights.random("w", shape[0], shape[1], random)))
                        .toList());
            }
            float[] logits = new float[tokens * experts], x = new float[tokens * dim];
            for (int i = 0; i < logits.length; i++) logits[i] = random.nextInt(-4, 5) / 2f;  // ties
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-1, 1);
            Activation xs = matrix(cpu, x, tokens, dim), routerLogits = matrix(cpu, logits, tokens, experts);

            ExpertRoutes routes = cpu.routeExperts(routerLogits, topK);
            Activation sorted = cpu.allocate(routes.rows(), dim), gate = cpu.allocate(routes.rows(), hidden),
                    up = cpu.allocate(routes.rows(), hidden), ySorted = cpu.allocate(routes.rows(), dim),
                    routed = cpu.allocate(tokens, dim);
            cpu.gatherRouted(xs, routes, sorted);
            cpu.expertLinear(sorted, cpu.experts(w.get(0)), routes, gate);
            cpu.expertLinear(sorted, cpu.experts(w.get(1)), routes, up);
            cpu.swiglu(gate, up);
            cpu.expertLinear(gate, cpu.experts(w.get(2)), routes, ySorted);
            cpu.combineRouted(ySorted, routes, routed);

            Activation looped = cpu.allocate(tokens, dim);  // the per-expert loop Model ran before the routed ops
            cpu.zero(looped);
            CpuExpertRoutes r = (CpuExpertRoutes) routes;
            for (int e = 0; e < experts; e++) {
                int[] rows = IntStream.range(r.offsets()[e], r.offsets()[e + 1]).map(r::token).toArray();
                float[] weights = new float[rows.length];
                for (int i = 0; i < rows.length; i++) weights[i] = r.weight()[r.order()[r.offsets()[e] + i]];
                if (rows.length == 0) continue;
                Activation xe = cpu.allocate(rows.length, dim), g = cpu.allocate(rows.length, hidden),
                        u = cpu.allocate(rows.length, hidden), ye = cpu.allocate(rows.length, dim);
                cpu.gatherRows(xs, rows, xe);
                cpu.linear(xe, cpu.linear(w.get(0).get(e)), g);
                cpu.linear(xe, cpu.linear(w.get(1).get(e)), u);
                cpu.swiglu(g, u);
                cpu.linear(g, cpu.linear(w.get(2).get(e)), ye);
                float[] y = CpuActivation.of(ye).data(), out = CpuActivation.of(looped).data();
                for (int i = 0; i < rows.length; i++) VectorMath.axpy(weights[i], y, i * dim, out, rows[i] * dim, dim);
            }
            assertThat(Arrays.equals(CpuActivation.of(routed).data(), CpuActivation.of(looped).data())).isTrue();
        }
    }

    private static Activation matrix(CpuBackend cpu, float[] values, int rows, int cols) {
        Activation a = cpu.allocate(rows, cols);
        cpu.embed(cpu.weight(Tensor.ofFloats("input", new long[] {rows, cols}, values)), IntStream.range(0, rows).toArray(), a);
        return a;
    }
}
