package io.tramontane.tokenizer.instruct;

import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/** Tool-call ids as Mistral models use them: exactly 9 characters a-z, A-Z, 0-9. */
public final class ToolCallIds {
    public static final int LENGTH = 9;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final Pattern VALID = Pattern.compile("[a-zA-Z0-9]{" + LENGTH + "}");

    private ToolCallIds() {}

    public static String mint(RandomGenerator random) {
        char[] id = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) id[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        return new String(id);
    }

    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }
}
