package io.tramontane.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TekkenFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A tiny byte-level BPE vocabulary: the 256 bytes, then a few merges. */
    private static List<byte[]> tinyVocab() {
        List<byte[]> vocab = new ArrayList<>();
        for (int b = 0; b < 256; b++) vocab.add(new byte[] {(byte) b});
        for (String merge : List.of("he", "ll", "hell", "hello", " w", "or", " wor", "ld", " world")) {
            vocab.add(merge.getBytes(StandardCharsets.UTF_8));
        }
        return vocab;
    }

    @Test
    void writtenFileLoadsBackAndEncodes() throws IOException {
        TekkenFile file = TekkenFile.of(TokenizerVersion.V13, tinyVocab(), 40);
        Path path = dir.resolve("tekken.json");
        file.write(path);

        Tekken tekken = Tekken.load(path);
        assertThat(tekken.version()).isEqualTo(TokenizerVersion.V13);
        assertThat(tekken.vocabSize()).isEqualTo(40 + 265);
        assertThat(tekken.specialId("[THINK]")).isEqualTo(34);
        assertThat(tekken.bosId()).isEqualTo(1);
        assertThat(tekken.encode("hello world")).containsExactly(40 + 259, 40 + 264);
        assertThat(tekken.decode(tekken.encode("hello world!"), SpecialTokenPolicy.RAISE)).isEqualTo("hello world!");
    }

    @Test
    void realFilesLoadWithTheirSpecialTokens() {
        Tekken v15 = SharedTekken.tokenizer("tekken-v15.json");
        assertThat(v15.vocabSize()).isEqualTo(131072);
        assertThat(v15.numSpecialTokens()).isEqualTo(1000);
        assertThat(v15.eosId()).isEqualTo(2);
        assertThat(v15.specialId("[MODEL_SETTINGS]")).isEqualTo(36);
        assertThat(v15.file().modelSettings()).isEqualTo(ModelSettings.standard());
        assertThat(SharedTekken.tokenizer("tekken-v7.json").findSpecialId("[THINK]")).isEmpty();
    }

    @Test
    void v7FileWithoutSpecialTokensGetsTheStandardNames() throws IOException {
        Tekken tekken = Tekken.load(tampered(TokenizerVersion.V7, root -> root.remove("special_tokens")));
        assertThat(tekken.specialId("[TOOL_CONTENT]")).isEqualTo(19);
        assertThat(tekken.tokenText(20)).isEqualTo("<SPECIAL_20>");
    }

    @Test
    void defaultVocabSizeLimitsTheVocabularyInUse() throws IOException {
        Tekken tekken = Tekken.load(tampered(TokenizerVersion.V7,
                root -> ((ObjectNode) root.get("config")).put("default_vocab_size", 40 + 258)));
        assertThat(tekken.vocabSize()).isEqualTo(298);
        assertThat(tekken.encode("hello")).containsExactly(40 + 256, 40 + 257, 40 + 'o');
    }

    @Test
    void brokenFilesAreRejectedNamingTheField() {
        assertRejected(root -> entry(root, 260).put("token_bytes", "**not base64**"),
                "vocab[260].token_bytes is not valid base64");
        assertRejected(root -> entry(root, 257).put("token_bytes", "aGU="),
                "rank 257 duplicates rank 256");
        assertRejected(root -> entry(root, 260).put("rank", 7), "vocab[260].rank is 7");
        assertRejected(root -> vocab(root).remove(264), "vocab has 264 entries but config.num_vocab_tokens declares 265");
        assertRejected(root -> ((ObjectNode) root.get("config")).put("default_vocab_size", 400),
                "fewer than config.default_vocab_size - config.default_num_special_tokens = 360");
        assertRejected(root -> ((ObjectNode) root.get("config")).remove("pattern"), "config.pattern is missing");
        assertRejected(root -> ((ObjectNode) root.get("config")).put("version", "v99"),
                "config.version: unknown tokenizer version 'v99'");
        assertRejected(root -> root.remove("special_tokens"), "special_tokens is missing; it may only be left out up to v7");
        assertRejected(root -> ((ObjectNode) root.get("special_tokens").get(5)).put("token_str", "[INST]"),
                "special token name '[INST]' is used by ids 3 and 5");
        assertRejected(root -> entry(root, 65).put("token_bytes", "Qg=="), "vocab[65] must be the single byte 0x41");
    }

    @Test
    void aFileThatIsNotJsonIsRejected() throws IOException {
        Path path = dir.resolve("broken.json");
        Files.writeString(path, "{\"config\": ");
        assertThatThrownBy(() -> Tekken.load(path)).isInstanceOf(TekkenFormatException.class)
                .hasMessageContaining(path.toString()).hasMessageContaining("not a valid tekken.json");
    }

    private void assertRejected(Consumer<ObjectNode> breakIt, String message) {
        assertThatThrownBy(() -> Tekken.load(tampered(TokenizerVersion.V13, breakIt)))
                .isInstanceOf(TekkenFormatException.class)
                .hasMessageContaining("tampered.json")
                .hasMessageContaining(message);
    }

    private Path tampered(TokenizerVersion version, Consumer<ObjectNode> change) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TekkenFile.of(version, tinyVocab(), 40).write(out);
        ObjectNode root = (ObjectNode) JSON.readTree(out.toByteArray());
        change.accept(root);
        Path path = dir.resolve("tampered.json");
        JSON.writeValue(path.toFile(), root);
        return path;
    }

    private static ObjectNode entry(ObjectNode root, int index) {
        return (ObjectNode) vocab(root).get(index);
    }

    private static ArrayNode vocab(ObjectNode root) {
        return (ArrayNode) root.get("vocab");
    }
}
