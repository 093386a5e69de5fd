package io.tramontane.weights;

import java.util.List;

/** The FFN half of a block: a SwiGLU MLP or a Mixtral-style mixture of SwiGLU experts. */
public sealed interface FeedForward {

    /** {@code w2(silu(w1 x) * w3 x)}; w1/w2/w3 = HF gate_proj/down_proj/up_proj. */
    record Dense(Linear w1, Linear w2, Linear w3) implements FeedForward {}

    /** {@code router}: {@code [experts, dim]}, BF16/F32 even in FP8 checkpoints. */
    record Moe(Tensor router, List<Dense> experts) implements FeedForward {
        public Moe {
            experts = List.copyOf(experts);
        }
    }
}
