package io.tramontane.tokenizer;

import java.util.random.RandomGenerator;

/** Seeded random Unicode text: mixed scripts, all planes, combining marks, emoji and whitespace runs. */
final class RandomText {
    private static final int[][] RANGES = {
            {0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E},   // ASCII, weighted up
            {0x00, 0x1F},                               // control characters
            {0xA0, 0x24F},                              // Latin-1, Latin Extended
            {0x300, 0x36F},                             // combining marks
            {0x370, 0x3FF}, {0x400, 0x4FF},             // Greek, Cyrillic
            {0x590, 0x6FF},                             // Hebrew, Arabic
            {0x900, 0x97F}, {0xE00, 0xE7F},             // Devanagari, Thai
            {0x2000, 0x206F},                           // general punctuation, odd spaces, ZWJ
            {0x3000, 0x30FF}, {0x4E00, 0x9FFF},         // CJK punctuation, kana, ideographs
            {0xAC00, 0xD7A3},                           // Hangul
            {0xE000, 0xF8FF}, {0xFE00, 0xFFFD},         // private use, specials
            {0x1F300, 0x1FAFF},                         // emoji
            {0x10000, 0x10FFFF},                        // every supplementary plane
    };
    private static final String[] WHITESPACE = {" ", "  ", "\n", "\r\n", "\t", "\n\n", "   \n", "\u00A0", "\u3000",
            " \u2028", "\u000B", "\u0085"};

    private RandomText() {}

    static String generate(RandomGenerator random, int codePoints) {
        StringBuilder text = new StringBuilder();
        int[] range = RANGES[random.nextInt(RANGES.length)];
        for (int i = 0; i < codePoints; i++) {
            if (random.nextInt(8) == 0) range = RANGES[random.nextInt(RANGES.length)];
            if (random.nextInt(10) == 0) {
                text.append(WHITESPACE[random.nextInt(WHITESPACE.length)]);
                continue;
            }
            int codePoint;
            do {
                codePoint = range[0] + random.nextInt(range[1] - range[0] + 1);
            } while (Character.getType(codePoint) == Character.SURROGATE);
            text.appendCodePoint(codePoint);
        }
        return text.toString();
    }
}
