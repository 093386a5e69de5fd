package io.tramontane.model;

/**
 * One immutable description of a Mistral-family decoder, built from either {@code params.json} or
 * {@code config.json}. Field meanings follow MODELS.md; {@code headDim} is always explicit (never
 * {@code dim / nHeads}), {@code hiddenDim} is per expert for MoE models.
 *
 * @param architecture  e.g. {@code MistralForCausalLM}, {@code MixtralForCausalLM}, {@code Ministral3ForCausalLM}
 * @param yarn          YaRN RoPE scaling, or null for plain RoPE
 * @param temperature   llama-4 position-dependent query temperature, or null when absent / beta 0
 * @param moe           Mixtral-style experts, or null for a dense FFN
 * @param quantization  FP8 description, or null for unquantized weights
 * @param maxPositions  context length from the config, 0 when the config does not say
 */
public record ModelConfig(
        String architecture,
        int dim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int headDim,
        int hiddenDim,
        int vocabSize,
        float normEps,
        double ropeTheta,
        Yarn yarn,
        QueryTemperature temperature,
        Moe moe,
        boolean tiedEmbeddings,
        Quantization quantization,
        long maxPositions) {

    public ModelConfig {
        require(dim > 0, "dim", dim);
        require(nLayers > 0, "n_layers", nLayers);
        require(nHeads > 0, "n_heads", nHeads);
        require(nKvHeads > 0 && nHeads % nKvHeads == 0, "n_kv_heads (must divide n_heads " + nHeads + ")", nKvHeads);
        require(headDim > 0 && headDim % 2 == 0, "head_dim (must be even)", headDim);
        require(hiddenDim > 0, "hidden_dim", hiddenDim);
        require(vocabSize > 0, "vocab_size", vocabSize);
        require(normEps > 0, "norm_eps", normEps);
        require(ropeTheta > 0, "rope_theta", ropeTheta);
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + field + " = " + value);
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }

    public int queryWidth() {
        return nHeads * headDim;
    }

    public int kvWidth() {
        return nKvHeads * headDim;
    }

    /** Bytes of the cached keys and values of one position, every layer and kv head, at {@code elementBytes} each. */
    public long kvBytesPerPosition(int elementBytes) {
        return 2L * nLayers * kvWidth() * elementBytes;
    }

    /**
     * YaRN parameters (MODELS.md 5.6), with the attention factor already resolved from whichever rule
     * the config file uses ({@code attention_factor}, {@code mscale}/{@code mscale_all_dim}, {@code apply_scale}).
     */
    public record Yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow,
                       double attentionFactor) {}

    /** llama-4 query temperature (MODELS.md 5.7): q is multiplied by {@code 1 + beta * ln(1 + floor(p / L))}. */
    public record QueryTemperature(double beta, int originalMaxPositions) {
        public float at(long position) {
            return (float) (1 + beta * Math.log(1 + Math.floorDiv(position, originalMaxPositions)));
        }
    }

    /** Mixtral-style routing: top-k of {@code numExperts}, softmax over the selected k. */
    public record Moe(int numExperts, int topK) {}

    /**
     * FP8 e4m3 linears. {@code staticActivationScales}: the checkpoint carries per-tensor activation scales
     * (w8a8 static). {@code weightBlockSize}: null for per-tensor weight scales, else [rows, cols] of a block.
     */
    public record Quantization(boolean staticActivationScales, int[] weightBlockSize) {}
}
