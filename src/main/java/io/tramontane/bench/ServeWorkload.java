package io.tramontane.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The requests of a serving benchmark: prompts from a dataset file or made of random words (about one
 * token each in BPE vocabularies; the server's {@code usage} gives the exact counts), and how many
 * tokens each asks for. Seeded, so every level and every peer gets the same requests.
 */
public final class ServeWorkload {
    /** Common short words: each is one token in most vocabularies, and they carry no meaning together. */
    private static final String[] WORDS = ("the of and to in is was for on are with as his they be at one have this "
            + "from or had by word but what some we can out other were all there when up use your how said an each "
            + "she which do their time if will way about many then them write would like so these her long make "
            + "thing see him two has look more day could go come did number sound no most people my over know water "
            + "than call first who may down side been now find any new work part take get place made live where after "
            + "back little only round man year came show every good me give our under name very through just form").split(" ");

    /** One request: its prompt text and its output token limit. */
    public record Request(String prompt, int maxTokens) {}

    private final List<String> dataset;  // null: random words
    private final LengthRange promptTokens, outputTokens;
    private final SplittableRandom random;

    private ServeWorkload(List<String> dataset, LengthRange promptTokens, LengthRange outputTokens, long seed) {
        this.dataset = dataset;
        this.promptTokens = promptTokens;
        this.outputTokens = outputTokens;
        this.random = new SplittableRandom(seed);
    }

    public static ServeWorkload synthetic(LengthRange promptTokens, LengthRange outputTokens, long seed) {
        return new ServeWorkload(null, promptTokens, outputTokens, seed);
    }

    /** JSON lines with a {@code prompt} string each, drawn at random. */
    public static ServeWorkload dataset(Path file, LengthRange outputTokens, long seed) {
        List<String> prompts = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                JsonNode prompt = BenchJson.MAPPER.readTree(lines.get(i)).get("prompt");
                if (prompt == null || !prompt.isTextual()) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected {\"prompt\": \"...\"}");
                }
                prompts.add(prompt.asText());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the dataset " + file, e);
        }
        if (prompts.isEmpty()) throw new IllegalArgumentException(file + ": no prompts");
        return new ServeWorkload(prompts, null, outputTokens, seed);
    }

    /** The next {@code n} requests. */
    public synchronized List<Request> next(int n) {
        List<Request> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String prompt = dataset != null ? dataset.get(Math.floorMod(random.nextInt(), dataset.size())) : words();
            requests.add(new Request(prompt, outputTokens.sample(random)));
        }
        return requests;
    }

    private String words() {
        int n = promptTokens.sample(random);
        StringBuilder text = new StringBuilder(n * 6);
        for (int i = 0; i < n; i++) {
            if (i > 0) text.append(' ');
            text.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return text.toString();
    }
}
