package io.tramontane.tokenizer;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Writes a {@link TekkenFile} in the layout of Mistral's released tekken.json files. */
final class TekkenFileWriter {
    private TekkenFileWriter() {}

    static void write(TekkenFile file, OutputStream out) throws IOException {
        try (JsonGenerator json = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            json.writeStartObject();
            json.writeObjectFieldStart("config");
            json.writeStringField("pattern", file.pattern());
            json.writeNumberField("num_vocab_tokens", file.vocab().size());
            json.writeNumberField("default_vocab_size", file.defaultVocabSize());
            json.writeNumberField("default_num_special_tokens", file.specialTokens().count());
            json.writeStringField("version", file.version().label());
            json.writeEndObject();

            json.writeArrayFieldStart("vocab");
            Base64.Encoder base64 = Base64.getEncoder();
            for (int rank = 0; rank < file.vocab().size(); rank++) {
                byte[] bytes = file.vocab().get(rank);
                json.writeStartObject();
                json.writeNumberField("rank", rank);
                json.writeStringField("token_bytes", base64.encodeToString(bytes));
                json.writeStringField("token_str", textOrNull(bytes));
                json.writeEndObject();
            }
            json.writeEndArray();

            json.writeArrayFieldStart("special_tokens");
            for (SpecialToken token : file.specialTokens().all()) {
                json.writeStartObject();
                json.writeNumberField("rank", token.id());
                json.writeStringField("token_str", token.name());
                json.writeBooleanField("is_control", true);
                json.writeEndObject();
            }
            json.writeEndArray();

            if (file.modelSettings() != null) writeSettings(json, file.modelSettings());
            json.writeEndObject();
        }
    }

    private static void writeSettings(JsonGenerator json, ModelSettings settings) throws IOException {
        json.writeObjectFieldStart("model_settings_builder");
        json.writeObjectFieldStart("reasoning_effort");
        json.writeStringField("type", "enum");
        json.writeArrayFieldStart("values");
        for (String value : settings.reasoningEffortValues()) json.writeString(value);
        json.writeEndArray();
        json.writeBooleanField("accepts_none", settings.acceptsNone());
        json.writeStringField("default", settings.defaultReasoningEffort());
        json.writeEndObject();
        json.writeEndObject();
    }

    /** token_str is informational: the UTF-8 text of the bytes, or null when they are not valid UTF-8. */
    private static String textOrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
