package io.tramontane.constraint;

import static io.tramontane.constraint.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.testing.SharedFixtures;
import io.tramontane.tokenizer.Tekken;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Masks over the real 131k Tekken vocabulary: along seeded random walks, every mask must allow exactly the
 * tokens whose bytes the automaton can read (checked token by token, without the sorted-vocabulary walk),
 * and the times of first (computed) and repeated (cached) masks are printed.
 */
class LargeVocabularyMaskTest {
    private static final ConstraintLimits LIMITS = new ConstraintLimits(48, 6, 3, 3, 3, 2, 2);
    static Tekken tekken;
    static Vocabulary vocabulary;

    @BeforeAll
    static void load() throws Exception {
        tekken = Tekken.load(SharedFixtures.resolve("tekken/tekken-v13.json"));
        long t0 = System.nanoTime();
        vocabulary = new Vocabulary(tekken);
        System.out.printf("constraint: sorted vocabulary of %d ids built in %.1f ms (longest token %d bytes)%n",
                tekken.vocabSize(), (System.nanoTime() - t0) / 1e6, vocabulary.longest());
    }

    @Test
    void personSchemaMasksAllowExactlyTheReadableTokens() {
        check("schema", new SchemaCompiler(LIMITS, json(Fixtures.PERSON)).compile(), new int[0], 3);
    }

    @Test
    void jsonObjectMasksAllowExactlyTheReadableTokens() {
        check("json_object", new SchemaCompiler(LIMITS, null).anyObject(), new int[0], 2);
    }

    @Test
    void toolCallMasksAllowExactlyTheReadableTokensAndControlTokens() {
        List<Integer> specials = new ArrayList<>();
        Node root = ToolCallGrammar.compile(tekken, LIMITS, Fixtures.TOOLS, null, true, specials);
        check("tool calls", root, specials.stream().mapToInt(Integer::intValue).toArray(), 2);
    }

    private static void check(String what, Node root, int[] specials, int walks) {
        Grammar grammar = new Grammar(root, specials, vocabulary, tekken.vocabSize(), tekken.eosId());
        List<Double> firstMs = new ArrayList<>(), cachedUs = new ArrayList<>();
        double slowest = 0;
        String slowestState = "";
        for (int seed = 0; seed < walks; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            State state = grammar.start();
            for (int step = 0; step < 400; step++) {
                long t0 = System.nanoTime();
                TokenMask mask = grammar.mask(state);
                long t1 = System.nanoTime();
                grammar.mask(state);
                long t2 = System.nanoTime();
                firstMs.add((t1 - t0) / 1e6);
                cachedUs.add((t2 - t1) / 1e3);
                if ((t1 - t0) / 1e6 > slowest) {
                    slowest = (t1 - t0) / 1e6;
                    slowestState = state.toString();
                }
                List<Integer> allowed = new ArrayList<>();
                for (int id = 0; id < tekken.vocabSize(); id++) {
                    boolean readable = readable(state, id, grammar, specials);
                    assertThat(mask.allows(id)).as("token %d in %s", id, state).isEqualTo(readable);
                    if (readable) allowed.add(id);
                }
                assertThat(allowed).as("a live state allows some token: %s", state).isNotEmpty();
                int token = allowed.get(random.nextInt(allowed.size()));
                if (token == tekken.eosId()) break;
                state = advance(state, token);
            }
        }
        System.out.printf("constraint: %s on %d ids: %d masks, first (computed or cached earlier) mean %.2f ms, max %.1f ms; "
                        + "cached mean %.1f us; slowest state %s%n", what, tekken.vocabSize(), firstMs.size(),
                firstMs.stream().mapToDouble(d -> d).average().orElse(0), slowest,
                cachedUs.stream().mapToDouble(d -> d).average().orElse(0), slowestState);
    }

    /** Brute force: can {@code state} read token {@code id}? */
    private static boolean readable(State state, int id, Grammar grammar, int[] specials) {
        if (id == tekken.eosId()) return state.canEnd();
        if (tekken.isSpecial(id)) {
            for (int s : specials) if (s == id) return state.read(Frame.SPECIAL + id) != null;
            return false;
        }
        return advance(state, id) != null;
    }

    private static State advance(State state, int token) {
        if (tekken.isSpecial(token)) return state.read(Frame.SPECIAL + token);
        for (byte b : tekken.tokenBytes(token)) if ((state = state.read(b & 0xFF)) == null) return null;
        return state;
    }
}
