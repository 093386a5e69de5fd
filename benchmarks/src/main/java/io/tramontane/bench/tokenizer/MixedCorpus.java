package io.tramontane.bench.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A seeded text mix like what a chat server tokenizes: English prose, Java and Python source, JSON, CJK and emoji,
 * in blocks of a few hundred bytes, so every kind of pre-tokenizer piece and BPE merge depth shows up.
 */
final class MixedCorpus {
    private static final String[] WORDS = ("the of and to in is that for it as was with be by on not he this are or "
            + "his from at which but have an they you were her she there would their we him been has when who will "
            + "more no if out so said what up its about into than them can only other new some could time these two "
            + "may then do first any my now such like our over man me even most made after also did many before must "
            + "through back years where much your way well down should because each just those people tokenizer "
            + "inference throughput latency Mistral quantization attention vocabulary streaming").split(" ");
    private static final String[] IDENTIFIERS = {"tokenizer", "ids", "buffer", "length", "result", "request",
            "maxTokens", "temperature", "logits", "cache", "layerIndex", "hidden_size", "num_heads", "value"};
    private static final String[] EMOJI = {"🙂", "🚀", "👍🏽", "🎉", "❤️", "🤔", "🇫🇷", "👩‍💻", "✅", "🔥"};
    private static final String CJK = "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其"
            + "日本語のテキストをトークン化しますこんにちは世界한국어텍스트토큰화";

    private MixedCorpus() {}

    static String generate(long seed, int approximateBytes) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        while (text.toString().getBytes(StandardCharsets.UTF_8).length < approximateBytes) {
            for (int block = 0; block < 64; block++) {
                switch (random.nextInt(5)) {
                    case 0 -> prose(random, text);
                    case 1 -> code(random, text);
                    case 2 -> json(random, text);
                    case 3 -> cjk(random, text);
                    default -> emoji(random, text);
                }
            }
        }
        return text.toString();
    }

    private static void prose(SplittableRandom random, StringBuilder text) {
        for (int sentence = 0; sentence < 4; sentence++) {
            int words = 6 + random.nextInt(14);
            for (int w = 0; w < words; w++) {
                String word = WORDS[random.nextInt(WORDS.length)];
                if (w == 0) word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                text.append(word).append(w == words - 1 ? ". " : random.nextInt(9) == 0 ? ", " : " ");
            }
        }
        text.append("\n\n");
    }

    private static void code(SplittableRandom random, StringBuilder text) {
        String a = IDENTIFIERS[random.nextInt(IDENTIFIERS.length)], b = IDENTIFIERS[random.nextInt(IDENTIFIERS.length)];
        if (random.nextBoolean()) {
            text.append("    public int[] ").append(a).append("(String ").append(b).append(") {\n")
                    .append("        for (int i = 0; i < ").append(b).append(".length(); i++) {\n")
                    .append("            if (").append(b).append(".charAt(i) == '\\n') return new int[] {i, ")
                    .append(random.nextInt(1000)).append("};\n        }\n        return null;\n    }\n");
        } else {
            text.append("def ").append(a).append("(").append(b).append(", n=").append(random.nextInt(64)).append("):\n")
                    .append("    \"\"\"Return the ").append(b).append(" scaled.\"\"\"\n")
                    .append("    return [x * n for x in ").append(b).append(" if x > 0.5]\n\n");
        }
    }

    private static void json(SplittableRandom random, StringBuilder text) {
        text.append("{\"id\": \"").append(Long.toHexString(random.nextLong())).append("\", \"object\": ")
                .append("\"chat.completion.chunk\", \"created\": ").append(1_700_000_000 + random.nextInt(1_000_000))
                .append(", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"")
                .append(WORDS[random.nextInt(WORDS.length)]).append("\"}, \"logprobs\": null, \"score\": ")
                .append(random.nextDouble()).append("}]}\n");
    }

    private static void cjk(SplittableRandom random, StringBuilder text) {
        int length = 20 + random.nextInt(60);
        for (int i = 0; i < length; i++) {
            text.append(CJK.charAt(random.nextInt(CJK.length())));
            if (random.nextInt(12) == 0) text.append(random.nextBoolean() ? "，" : "。");
        }
        text.append('\n');
    }

    private static void emoji(SplittableRandom random, StringBuilder text) {
        int count = 3 + random.nextInt(8);
        for (int i = 0; i < count; i++) {
            text.append(EMOJI[random.nextInt(EMOJI.length)]).append(random.nextInt(3) == 0 ? " " : "");
            if (random.nextInt(4) == 0) text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        text.append('\n');
    }
}
