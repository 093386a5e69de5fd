package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Small models generated here, in both layouts: loading needs no ../shared. */
class GeneratedCheckpointTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("dense bf16", TinyModel.dense(1)),
                Arguments.of("dense f32", TinyModel.dense(2).withDType(DType.F32)),
                Arguments.of("moe 4x2", TinyModel.dense(3).withMoe(4, 2)),
                Arguments.of("fp8, F32 [] scales", TinyModel.dense(4).withFp8(new long[] {}, DType.F32)),
                Arguments.of("fp8, BF16 [1] scales", TinyModel.dense(5).withFp8(new long[] {1}, DType.BF16)),
                Arguments.of("fp8, F16 [1,1] scales", TinyModel.dense(6).withFp8(new long[] {1, 1}, DType.F16)),
                Arguments.of("fp8 moe", TinyModel.dense(7).withMoe(3, 1).withFp8(new long[] {}, DType.F32)),
                Arguments.of("tied", TinyModel.dense(8).withTied()),
                Arguments.of("3 shards + index", TinyModel.dense(9).withShards(3)),
                Arguments.of("multimodal prefixes, vision skipped", TinyModel.dense(10).withMultimodal().withShards(2)),
                Arguments.of("fp8 + one KV-cache scale per layer", TinyModel.dense(12).withFp8(new long[] {}, DType.F32)
                        .withKvScales(TinyModel.KvScales.SHARED)),
                Arguments.of("K and V cache scales per layer, multimodal",
                        TinyModel.dense(13).withMultimodal().withKvScales(TinyModel.KvScales.PAIR)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void bothLayoutsOpenToTheGeneratedCanonicalTensors(String name, TinyModel model) {
        model.writeNative(tmp.resolve("native"));
        model.writeHf(tmp.resolve("hf"));
        try (Checkpoint nat = Checkpoint.open(tmp.resolve("native"));
             Checkpoint hf = Checkpoint.open(tmp.resolve("hf"))) {
            GoldenCheckpointTest.assertSameModel(nat.config(), hf.config());
            CanonicalTensors.assertIdentical(nat.weights(), hf.weights());
            assertMatchesGenerated(model, hf.weights());
            assertThat(nat.parameterCount()).isEqualTo(hf.parameterCount()).isEqualTo(expectedParameters(model));
            assertThat(nat.bytesByDType()).isEqualTo(hf.bytesByDType());
        }
    }

    /** The canonical tensors are the generated ones, byte for byte, in canonical (rotate-half) row order. */
    private static void assertMatchesGenerated(TinyModel model, ModelWeights w) {
        Map<String, Linear> canonical = CanonicalTensors.linears(w);
        for (TinyModel.Gen g : model.tensors()) {
            if (g.key().endsWith("scale")) continue;
            String[] p = g.key().split("\\.");
            String key = switch (p.length) {
                case 1 -> g.key().equals("embed") ? "embeddings" : g.key();
                case 2 -> p[1].matches("w[123]") ? p[0] + ".ffn0." + p[1] : g.key();
                default -> p[0] + ".ffn" + p[1] + "." + p[2];
            };
            Linear linear = canonical.get(key);
            assertThat(linear).as(key).isNotNull();
            byte[] bytes = new byte[g.bytes().length];
            int rowBytes = (int) (linear.weight().cols() * g.dtype().bytes());
            for (int r = 0; r < linear.weight().rows(); r++) {
                System.arraycopy(linear.weight().rowBytes(r).toArray(ValueLayout.JAVA_BYTE), 0, bytes, r * rowBytes, rowBytes);
            }
            assertThat(bytes).as(key).isEqualTo(g.bytes());
        }
        if (model.fp8()) {
            Linear wq = w.layers().getFirst().wq();
            assertThat(wq.weightScale()).isBetween(0.005f, 1.02f);
            assertThat(wq.activationScale()).isBetween(0.005f, 1.02f);
        }
    }

    private static long expectedParameters(TinyModel m) {
        long attention = 2L * m.heads() * m.headDim() * m.dim() + 2L * m.kvHeads() * m.headDim() * m.dim();
        long mlp = 3L * m.hidden() * m.dim();
        long ffn = m.experts() == 0 ? mlp : m.experts() * mlp + (long) m.experts() * m.dim();
        long perLayer = attention + ffn + 2L * m.dim();
        return m.layers() * perLayer + (m.tied() ? 1 : 2) * (long) m.vocab() * m.dim() + m.dim();
    }

    @Test
    void multimodalCheckpointWarnsAboutTheSkippedVisionTower() {
        TinyModel.dense(11).withMultimodal().writeHf(tmp);
        try (Checkpoint c = Checkpoint.open(tmp)) {
            assertThat(c.config().architecture()).isEqualTo("Mistral3ForConditionalGeneration");
            assertThat(c.warnings()).anyMatch(w -> w.contains("vision tower")).anyMatch(w -> w.contains("skipped 1"));
        }
    }

    @Test
    void directoryWithBothLayoutsPrefersNativeUnlessAsked() {
        TinyModel model = TinyModel.dense(12);
        model.writeNative(tmp);
        model.writeHf(tmp);
        try (Checkpoint a = Checkpoint.open(tmp); Checkpoint b = Checkpoint.open(tmp, Checkpoint.Layout.HF)) {
            assertThat(a.layout()).isEqualTo(Checkpoint.Layout.NATIVE);
            assertThat(b.layout()).isEqualTo(Checkpoint.Layout.HF);
            assertThat(a.warnings()).anyMatch(w -> w.contains("both layouts"));
            CanonicalTensors.assertIdentical(a.weights(), b.weights());
        }
    }

    @Test
    void tokenizerPrefersTekkenAndNotesAnHfOnlyTokenizer() throws IOException {
        TinyModel.dense(13).writeHf(tmp);
        Files.writeString(tmp.resolve("tokenizer.json"), "{}");
        try (Checkpoint c = Checkpoint.open(tmp)) {
            assertThat(c.tokenizerFile()).contains(tmp.resolve("tokenizer.json"));
            assertThat(c.warnings()).anyMatch(w -> w.contains("only tokenizer.json"));
        }
        Files.writeString(tmp.resolve("tekken.json"), "{}");
        try (Checkpoint c = Checkpoint.open(tmp)) {
            assertThat(c.tokenizerFile()).contains(tmp.resolve("tekken.json"));
            assertThat(c.warnings()).noneMatch(w -> w.contains("tokenizer"));
        }
    }

    @Test
    void closingUnmapsTheFiles() {
        TinyModel.dense(14).writeNative(tmp);
        Checkpoint c = Checkpoint.open(tmp);
        Tensor embeddings = c.weights().tokenEmbeddings();
        embeddings.get(0, 0);
        c.close();
        assertThatThrownBy(() -> embeddings.get(0, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void loadPagesEveryByteInWithProgress() {
        TinyModel.dense(15).withShards(2).writeNative(tmp);
        try (Checkpoint c = Checkpoint.open(tmp)) {
            var sink = new java.io.ByteArrayOutputStream();
            c.load(Progress.bar(new java.io.PrintStream(sink, true), "loading", c.fileBytes()));
            assertThat(sink.toString()).contains("loading [").containsPattern("100% (\\d+\\.\\d)/\\1 MB" + System.lineSeparator() + "$");
        }
    }

    // ---- errors name the file and the tensor ----

    @Test
    void missingTensorIsNamed() throws IOException {
        TinyModel model = TinyModel.dense(20);
        model.writeNative(tmp);
        rewriteWithout(tmp.resolve("consolidated.safetensors"), "layers.1.ffn_norm.weight");
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("consolidated.safetensors").hasMessageContaining("layers.1.ffn_norm.weight")
                .hasMessageContaining("missing")
                .satisfies(e -> assertThat(((CheckpointException) e).subject()).isEqualTo("tensor 'layers.1.ffn_norm.weight'"));
    }

    @Test
    void shapeDisagreeingWithTheConfigIsNamed() throws IOException {
        TinyModel.dense(21).writeHf(tmp);
        Path config = tmp.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 48", "\"intermediate_size\" : 40"));
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
                .hasMessageContaining("[48, 32]").hasMessageContaining("[40, 32]");
    }

    @Test
    void unexpectedTensorIsAnError() throws IOException {
        TinyModel.dense(22).writeHf(tmp);
        Path file = tmp.resolve("model.safetensors");
        SafetensorsFile original = SafetensorsFile.of(file, java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(file)));
        SafetensorsWriter w = copy(original, null);
        w.addFloats("model.layers.0.self_attn.q_proj.bias", new long[] {32}, new float[32]);
        w.write(file);
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("q_proj.bias").hasMessageContaining("unexpected");
    }

    @Test
    void fp8WeightWithoutItsScaleIsNamed() throws IOException {
        TinyModel.dense(23).withFp8(new long[] {}, DType.F32).writeNative(tmp);
        rewriteWithout(tmp.resolve("consolidated.safetensors"), "layers.0.attention.wv.qscale_weight");
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("layers.0.attention.wv.qscale_weight").hasMessageContaining("missing");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void kvCacheScalesAreTheCheckpointsOrOne(String name, TinyModel model) {
        model.writeNative(tmp.resolve("native"));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("native"))) {
            KvCacheScales scales = c.weights().kvCacheScales();
            assertThat(scales.isUnit()).isEqualTo(model.kvScales() == TinyModel.KvScales.NONE);
            for (int l = 0; l < model.layers(); l++) {
                assertThat(scales.key(l)).as("layer %d K", l).isEqualTo(model.kvScale(l)[0]);
                assertThat(scales.value(l)).as("layer %d V", l).isEqualTo(model.kvScale(l)[1]);
            }
        }
    }

    @Test
    void kvCacheScalesOnSomeLayersWarnAndAKeyScaleAloneIsNamed() throws IOException {
        TinyModel pair = TinyModel.dense(26).withKvScales(TinyModel.KvScales.PAIR);
        pair.writeNative(tmp.resolve("some"));
        rewriteWithout(tmp.resolve("some/consolidated.safetensors"), "layers.1.attention.k_fake_quantizer.qscale_act");
        rewriteWithout(tmp.resolve("some/consolidated.safetensors"), "layers.1.attention.v_fake_quantizer.qscale_act");
        try (Checkpoint c = Checkpoint.open(tmp.resolve("some"))) {
            assertThat(c.warnings()).anyMatch(w -> w.contains("FP8 KV-cache scales for 1 of 2 layers"));
            assertThat(c.weights().kvCacheScales().key(0)).isEqualTo(pair.kvScale(0)[0]);
            assertThat(c.weights().kvCacheScales().key(1)).isEqualTo(1f);
        }
        pair.writeHf(tmp.resolve("alone"));
        rewriteWithout(tmp.resolve("alone/model.safetensors"), "model.layers.0.self_attn.v_scale");
        assertThatThrownBy(() -> Checkpoint.open(tmp.resolve("alone"))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.layers.0.self_attn.k_scale").hasMessageContaining("self_attn.v_scale beside it");
    }

    @Test
    void scaleWithSeveralElementsIsRejected() {
        TinyModel.dense(24).withFp8(new long[] {2}, DType.F32).writeHf(tmp);
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("weight_scale_inv").hasMessageContaining("shape [], [1] or [1,1]");
    }

    @Test
    void indexAndShardsMustAgree() throws IOException {
        TinyModel.dense(25).withShards(2).writeHf(tmp);
        Path index = tmp.resolve("model.safetensors.index.json");
        String json = Files.readString(index);
        Files.writeString(index, json.replaceFirst("\"model-00001-of-00002.safetensors\"", "\"model-00002-of-00002.safetensors\""));
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model-0000").hasMessageContaining("model.embed_tokens.weight");
        Files.writeString(index, json.replace("model-00002-of-00002", "model-00003-of-00003"));
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors.index.json").hasMessageContaining("does not exist");
    }

    @Test
    void tensorInTwoShardsIsAnError() throws IOException {
        TinyModel.dense(26).withShards(2).writeNative(tmp);
        Files.delete(tmp.resolve("consolidated.safetensors.index.json"));
        Path second = tmp.resolve("consolidated-00002-of-00002.safetensors");
        SafetensorsFile original = SafetensorsFile.of(second, java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(second)));
        SafetensorsWriter w = copy(original, null);
        w.addFloats("tok_embeddings.weight", new long[] {100, 32}, new float[3200]);
        w.write(second);
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tok_embeddings.weight").hasMessageContaining("also in consolidated-00001-of-00002");
    }

    @Test
    void missingShardWithoutIndexIsNamed() throws IOException {
        TinyModel.dense(27).withShards(3).writeNative(tmp);
        Files.delete(tmp.resolve("consolidated.safetensors.index.json"));
        Files.delete(tmp.resolve("consolidated-00002-of-00003.safetensors"));
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("consolidated-00002-of-00003.safetensors");
    }

    @Test
    void noCheckpointIsAClearError() {
        assertThatThrownBy(() -> Checkpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(tmp.toString()).hasMessageContaining("params.json");
    }

    /** Rewrites {@code file} with every tensor but {@code drop}. */
    static void rewriteWithout(Path file, String drop) throws IOException {
        SafetensorsFile original = SafetensorsFile.of(file, java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(file)));
        copy(original, drop).write(file);
    }

    static SafetensorsWriter copy(SafetensorsFile file, String drop) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (SafetensorsHeader.Entry e : List.copyOf(file.entries())) {
            if (e.name().equals(drop)) continue;
            w.add(e.name(), e.dtype(), e.shape(), file.tensor(e.name()).contiguousData());
        }
        return w;
    }
}
