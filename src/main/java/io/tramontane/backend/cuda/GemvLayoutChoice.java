package io.tramontane.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.TreeMap;

/**
 * Which gemv layout ({@link GemvLayout}) the BF16 and e4m3 decode linears take, by the width (k) of their weights: a
 * layout for every width, then exceptions for given widths. On an H200 the production ring won the 5120-wide layers of
 * Devstral Small and a 2-stage ring the 4096- and 32768-wide ones (o and down, whose x fills L1), so one choice may
 * mix them. Written as the layout's name, then {@code ,WIDTH=NAME} for each exception: {@code r4c1s4,4096=r2c2s2}.
 *
 * @param byWidth exceptions, by the weight's columns
 */
record GemvLayoutChoice(GemvLayout fallback, Map<Integer, GemvLayout> byWidth) {
    static final String PROPERTY = "tramontane.gemv.layout", VARIABLE = "TRAMONTANE_GEMV_LAYOUT";
    static final GemvLayoutChoice PRODUCTION = new GemvLayoutChoice(GemvLayout.PRODUCTION, Map.of());

    GemvLayoutChoice {
        byWidth = Map.copyOf(byWidth);
    }

    /**
     * The system property {@value #PROPERTY}, else the environment's {@value #VARIABLE}; {@link #PRODUCTION} when neither
     * is set. For measuring layouts end to end (the GPU check's Devstral decode runs each).
     */
    static GemvLayoutChoice configured() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) value = System.getenv(VARIABLE);
        return value == null || value.isBlank() ? PRODUCTION : parse(value.strip());
    }

    /** {@code NAME[,WIDTH=NAME]...}, names those of {@link GemvLayout#all()}. */
    static GemvLayoutChoice parse(String spec) {
        String[] parts = spec.split(",", -1);
        GemvLayout fallback = named(parts[0].strip(), spec);
        Map<Integer, GemvLayout> byWidth = new TreeMap<>();
        for (int i = 1; i < parts.length; i++) {
            String[] pair = parts[i].strip().split("=");
            int width;
            try {
                width = pair.length == 2 ? Integer.parseInt(pair[0].strip()) : -1;
            } catch (NumberFormatException e) {
                width = -1;
            }
            if (width < 1) throw invalid(spec, "'" + parts[i].strip() + "' is not WIDTH=LAYOUT with a positive width");
            if (byWidth.put(width, named(pair[1].strip(), spec)) != null) throw invalid(spec, "width " + width + " is named twice");
        }
        return new GemvLayoutChoice(fallback, byWidth);
    }

    /** The layout of a weight {@code cols} wide. */
    GemvLayout forWidth(long cols) {
        return cols <= Integer.MAX_VALUE ? byWidth.getOrDefault((int) cols, fallback) : fallback;
    }

    /** Every layout this choice may launch, the fallback first. */
    SequencedSet<GemvLayout> layouts() {
        SequencedSet<GemvLayout> all = new LinkedHashSet<>();
        all.add(fallback);
        all.addAll(byWidth.values());
        return all;
    }

    /** As {@link #parse} reads it. */
    String spec() {
        List<String> parts = new ArrayList<>(List.of(fallback.name()));
        new TreeMap<>(byWidth).forEach((width, layout) -> parts.add(width + "=" + layout.name()));
        return String.join(",", parts);
    }

    private static GemvLayout named(String name, String spec) {
        return GemvLayout.all().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow(() -> invalid(spec,
                "expected a layout of " + GemvLayout.all().stream().map(GemvLayout::name).toList() + ", got '" + name + "'"));
    }

    private static IllegalArgumentException invalid(String spec, String why) {
        return new IllegalArgumentException(VARIABLE + " / " + PROPERTY + " '" + spec + "' (NAME[,WIDTH=NAME]...): " + why);
    }
}
