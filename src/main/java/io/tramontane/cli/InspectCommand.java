package io.tramontane.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.model.ModelConfig;
import io.tramontane.weights.Checkpoint;
import io.tramontane.weights.CheckpointException;
import io.tramontane.weights.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a checkpoint: architecture, shapes, RoPE, MoE, quantization, tokenizer.")
final class InspectCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--model", required = true, description = "Model directory (Mistral-native or HF layout).")
    Path model;
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            ObjectNode report = report(checkpoint);
            if (json) out.println(JSON.writeValueAsString(report));
            else printText(out, report);
        }
        out.flush();
        return Main.EXIT_OK;
    }

    static ObjectNode report(Checkpoint checkpoint) {
        ModelConfig c = checkpoint.config();
        ObjectNode r = JSON.createObjectNode();
        r.put("model", checkpoint.directory().toString());
        r.put("layout", checkpoint.layout().name().toLowerCase());
        r.put("config", checkpoint.configFile().getFileName().toString());
        r.put("weight_files", checkpoint.weightFiles().size());
        r.put("architecture", c.architecture());
        r.put("parameters", checkpoint.parameterCount());
        ObjectNode bytes = r.putObject("dtype_bytes");
        new TreeMap<DType, Long>(checkpoint.bytesByDType()).forEach((dtype, n) -> bytes.put(dtype.name(), n));
        r.put("n_layers", c.nLayers());
        r.put("dim", c.dim());
        r.put("n_heads", c.nHeads());
        r.put("n_kv_heads", c.nKvHeads());
        r.put("head_dim", c.headDim());
        r.put("hidden_dim", c.hiddenDim());
        r.put("vocab_size", c.vocabSize());
        r.put("norm_eps", c.normEps());
        r.put("max_position_embeddings", c.maxPositions());
        r.put("tied_embeddings", c.tiedEmbeddings());
        r.put("rope_theta", c.ropeTheta());
        if (c.yarn() == null) {
            r.putNull("rope_scaling");
        } else {
            ObjectNode y = r.putObject("rope_scaling");
            y.put("type", "yarn");
            y.put("factor", c.yarn().factor());
            y.put("original_max_position_embeddings", c.yarn().originalMaxPositions());
            y.put("beta_fast", c.yarn().betaFast());
            y.put("beta_slow", c.yarn().betaSlow());
            y.put("attention_factor", c.yarn().attentionFactor());
        }
        if (c.temperature() == null) {
            r.putNull("temperature_scaling");
        } else {
            ObjectNode t = r.putObject("temperature_scaling");
            t.put("type", "llama_4");
            t.put("beta", c.temperature().beta());
            t.put("original_max_position_embeddings", c.temperature().originalMaxPositions());
        }
        if (c.moe() == null) {
            r.putNull("moe");
        } else {
            ObjectNode m = r.putObject("moe");
            m.put("num_experts", c.moe().numExperts());
            m.put("num_experts_per_tok", c.moe().topK());
        }
        if (c.quantization() == null) {
            r.putNull("quantization");
        } else {
            ObjectNode q = r.putObject("quantization");
            q.put("weights", "fp8_e4m3 per-tensor");
            q.put("activations", c.quantization().staticActivationScales() ? "static per-tensor" : "dynamic");
        }
        r.put("kv_cache_scales", checkpoint.weights().kvCacheScales().isUnit() ? "none (an FP8 KV cache uses 1)"
                : "from the checkpoint, per layer");
        if (checkpoint.tokenizerFile().isEmpty()) {
            r.putNull("tokenizer");
        } else {
            Path file = checkpoint.tokenizerFile().get();
            ObjectNode t = r.putObject("tokenizer");
            t.put("file", file.getFileName().toString());
            t.put("version", file.getFileName().toString().equals("tekken.json") ? tekkenVersion(file) : null);
        }
        r.putArray("warnings").addAll(checkpoint.warnings().stream().map(r::textNode).toList());
        return r;
    }

    /** {@code config.version} of a tekken.json, streamed (the vocabulary is megabytes and is skipped). */
    static String tekkenVersion(Path file) {
        try (JsonParser p = JSON.getFactory().createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new CheckpointException(file, null, "not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("config")) {
                    JsonNode config = JSON.readTree(p);
                    JsonNode version = config.path("version");
                    return version.isTextual() ? version.textValue() : null;
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage());
        }
    }

    private static void printText(PrintWriter out, ObjectNode r) {
        line(out, "model", r.get("model").asText() + " (" + r.get("layout").asText() + " layout: "
                + r.get("config").asText() + ", " + r.get("weight_files").asText() + " safetensors files)");
        line(out, "architecture", r.get("architecture").asText());
        line(out, "parameters", String.format("%,d (%.2f B)", r.get("parameters").asLong(), r.get("parameters").asLong() / 1e9));
        StringBuilder bytes = new StringBuilder();
        long total = 0;
        for (Map.Entry<String, JsonNode> e : r.get("dtype_bytes").properties()) {
            bytes.append(String.format("%s %,d  ", e.getKey(), e.getValue().asLong()));
            total += e.getValue().asLong();
        }
        line(out, "bytes", bytes + String.format("(total %,d = %.2f GB)", total, total / 1e9));
        line(out, "layers", r.get("n_layers").asText());
        line(out, "dim", r.get("dim").asText());
        line(out, "heads", r.get("n_heads").asText() + " (kv heads " + r.get("n_kv_heads").asText() + ")");
        line(out, "head_dim", r.get("head_dim").asText());
        line(out, "hidden_dim", r.get("hidden_dim").asText() + (r.get("moe").isNull() ? "" : " per expert"));
        line(out, "vocab", r.get("vocab_size").asText());
        line(out, "norm_eps", r.get("norm_eps").asText());
        line(out, "max positions", r.get("max_position_embeddings").asLong() == 0 ? "not given" : r.get("max_position_embeddings").asText());
        line(out, "embeddings", r.get("tied_embeddings").asBoolean() ? "tied (output = embeddings)" : "untied");
        JsonNode y = r.get("rope_scaling");
        line(out, "rope", "theta " + r.get("rope_theta").asText() + (y.isNull() ? ", no scaling"
                : String.format(", yarn factor %s original %s beta_fast %s beta_slow %s, attention factor %.10f",
                y.get("factor").asText(), y.get("original_max_position_embeddings").asText(), y.get("beta_fast").asText(),
                y.get("beta_slow").asText(), y.get("attention_factor").asDouble())));
        JsonNode t = r.get("temperature_scaling");
        line(out, "temperature", t.isNull() ? "none" : "llama_4 beta " + t.get("beta").asText() + " every "
                + t.get("original_max_position_embeddings").asText() + " positions");
        JsonNode m = r.get("moe");
        line(out, "moe", m.isNull() ? "none (dense)" : "top-" + m.get("num_experts_per_tok").asText() + " of "
                + m.get("num_experts").asText() + " experts");
        JsonNode q = r.get("quantization");
        line(out, "quantization", q.isNull() ? "none" : q.get("weights").asText() + " weights, "
                + q.get("activations").asText() + " activation scales");
        JsonNode tok = r.get("tokenizer");
        line(out, "tokenizer", tok.isNull() ? "none" : tok.get("file").asText()
                + (tok.get("version").isNull() ? "" : " (" + tok.get("version").asText() + ")"));
        for (JsonNode w : r.get("warnings")) line(out, "warning", w.asText());
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-14s %s%n", key, value);
    }
}
