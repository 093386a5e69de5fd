package io.tramontane.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A model description read from {@code params.json} (Mistral-native) or {@code config.json} (HF), with
 * the warnings worth showing a user (ignored keys, skipped vision tower, defaults applied). Fields that
 * would change the math and are not supported are errors naming the field, never warnings.
 */
public record ConfigFile(Path file, ModelConfig config, List<String> warnings) {

    public ConfigFile {
        warnings = List.copyOf(warnings);
    }

    /** Reads {@code params.json} as native, anything else (normally {@code config.json}) as HF. */
    public static ConfigFile read(Path file) {
        return file.getFileName().toString().equals("params.json")
                ? NativeConfigReader.read(file)
                : HfConfigReader.read(file);
    }

    /** YaRN magnitude {@code g(s, m)} of MODELS.md 5.6: 1 for s <= 1, else {@code 1 + 0.1 m ln s}. */
    static double yarnMagnitude(double factor, double m) {
        return factor <= 1 ? 1 : 1 + 0.1 * m * Math.log(factor);
    }
}
