package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The temperature a request gets when it sets none, from the checkpoint where it says: its
 * {@code generation_config.json}, else the model family's documented value (Devstral: 0.15, MODELS.md 6.4),
 * else OpenAI's default of 1.
 */
public final class SamplingDefaults {
    static final double DEVSTRAL_TEMPERATURE = 0.15, OPENAI_TEMPERATURE = 1.0;

    private SamplingDefaults() {}

    /** @param dir the checkpoint directory, or null for the demo model */
    public static double temperature(Path dir, String modelName) {
        if (dir != null) {
            Path config = dir.resolve("generation_config.json");
            if (Files.isRegularFile(config)) {
                try {
                    JsonNode temperature = HttpIo.JSON.readTree(config.toFile()).get("temperature");
                    if (temperature != null && temperature.isNumber() && temperature.asDouble() >= 0) {
                        return temperature.asDouble();
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + config, e);
                }
            }
        }
        return modelName.toLowerCase(Locale.ROOT).contains("devstral") ? DEVSTRAL_TEMPERATURE : OPENAI_TEMPERATURE;
    }
}
