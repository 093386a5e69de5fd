package io.tramontane.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InstructEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The {@code tokenize --jsonl} protocol, one JSON object per line in and out:
 * {@code {"text": s}} gives {@code {"ids": [...]}} (no BOS/EOS), {@code {"chat": request}} gives the prompt ids
 * (with BOS, in the tokenizer's version), {@code {"decode": [ids], "policy": "keep"|"ignore"}} gives
 * {@code {"text": s}}; a line that fails gives {@code {"error": "..."}} and the next line is read.
 */
final class TokenizeJsonl {
    // ASCII-only output: the line protocol must not depend on the terminal's charset
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    private final Tekken tekken;
    private final InstructEncoder instruct;

    TokenizeJsonl(Tekken tekken) {
        this.tekken = tekken;
        this.instruct = new InstructEncoder(tekken);
    }

    void run(BufferedReader in, PrintWriter out) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            out.println(answer(line));
            out.flush();
        }
    }

    String answer(String line) {
        ObjectNode result = JSON.createObjectNode();
        try {
            JsonNode request = JSON.readTree(line);
            if (request == null || !request.isObject()) throw new IllegalArgumentException("expected a JSON object");
            if (request.has("text")) {
                JsonNode text = request.get("text");
                if (!text.isTextual()) throw new IllegalArgumentException("text: expected a string");
                ids(result, tekken.encode(text.asText()));
            } else if (request.has("chat")) {
                ids(result, instruct.encodeConversation(ChatRequest.fromJson(request.get("chat"))));
            } else if (request.has("decode")) {
                result.put("text", tekken.decode(decodeIds(request.get("decode")), policy(request.get("policy"))));
            } else {
                throw new IllegalArgumentException("expected one of the keys text, chat, decode");
            }
        } catch (JacksonException e) {
            return error("not valid JSON: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        return write(result);
    }

    private static void ids(ObjectNode result, int[] ids) {
        ArrayNode array = result.putArray("ids");
        for (int id : ids) array.add(id);
    }

    private static int[] decodeIds(JsonNode node) {
        if (!node.isArray()) throw new IllegalArgumentException("decode: expected a list of ids");
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!node.get(i).canConvertToInt() || !node.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException("decode[" + i + "]: expected an integer id");
            }
            ids[i] = node.get(i).asInt();
        }
        return ids;
    }

    private static SpecialTokenPolicy policy(JsonNode node) {
        if (node == null || node.isNull()) return SpecialTokenPolicy.KEEP;
        return switch (node.asText().toLowerCase(Locale.ROOT)) {
            case "keep" -> SpecialTokenPolicy.KEEP;
            case "ignore" -> SpecialTokenPolicy.IGNORE;
            case "raise" -> SpecialTokenPolicy.RAISE;
            default -> throw new IllegalArgumentException("policy: '" + node.asText() + "' is not keep, ignore or raise");
        };
    }

    private static String error(String message) {
        return write(JSON.createObjectNode().put("error", message));
    }

    private static String write(ObjectNode result) {
        try {
            return JSON.writeValueAsString(result);
        } catch (JacksonException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }
}
