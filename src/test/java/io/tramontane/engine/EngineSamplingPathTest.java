package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.model.LanguageModel;
import io.tramontane.model.ModelConfig;
import io.tramontane.model.Step;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.SamplingParams;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which path a step's sampling takes: rows that need no host logits are drawn by the backend
 * ({@link LanguageModel#forwardAndSample}, only ids come back); a row with logprobs, penalties, a constraint or a
 * min_tokens mask sends the whole step down the host-logits path. Both give a seeded request the same tokens.
 */
class EngineSamplingPathTest {
    /** The CPU model, counting how each step reached it. */
    static final class CountingModel implements LanguageModel {
        final LanguageModel model;
        final AtomicInteger logitSteps = new AtomicInteger(), samplingSteps = new AtomicInteger();

        CountingModel(LanguageModel model) {
            this.model = model;
        }

        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public int kvBlocks() {
            return model.kvBlocks();
        }

        @Override
        public int blockSize() {
            return model.blockSize();
        }

        @Override
        public float[][] forward(Step step) {
            if (step.logitRows().length > 0) logitSteps.incrementAndGet();
            return model.forward(step);
        }

        @Override
        public int[] forwardAndSample(Step step, List<DrawRequest> draws) {
            if (draws.size() > 0) samplingSteps.incrementAndGet();
            return model.forwardAndSample(step, draws);
        }

        @Override
        public void close() {
            model.close();
        }
    }

    CountingModel model;
    Engine engine;

    @BeforeEach
    void start() {
        var options = new ModelFactory.Options(2, 1, 64, 4, true);
        model = new CountingModel(ModelFactory.cpu(EngineTest.WEIGHTS, options));
        engine = new Engine(model, 2, new Engine.Options(8, 256));
    }

    @AfterEach
    void stop() {
        engine.close();
    }

    private static SamplingParams sampled(long seed) {
        return SamplingParams.greedy(12).withTemperature(0.9).withFilters(20, 0.9, 0.01).withSeed(seed).withLimits(12, 0, true);
    }

    @Test
    void plainRequestsAreSampledOnTheBackendAndGiveTheHostPathsTokens() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            int[] prompt = EngineTest.prompt((int) seed, 5);
            model.logitSteps.set(0);
            model.samplingSteps.set(0);
            int[] onBackend = EngineTest.run(engine, prompt, sampled(seed), TextStream.NONE).tokens();
            assertThat(model.logitSteps.get()).as("steps that copied logits to the host").isZero();
            assertThat(model.samplingSteps.get()).isEqualTo(12);

            model.logitSteps.set(0);
            // logprobs need the host's logits but leave the token alone
            int[] onHost = EngineTest.run(engine, prompt, sampled(seed).withLogprobs(1), TextStream.NONE).tokens();
            assertThat(model.logitSteps.get()).isEqualTo(12);
            assertThat(onHost).as("seed %d", seed).containsExactly(onBackend);
        }
    }

    @Test
    void greedyRequestsAreArgmaxedOnTheBackend() throws Exception {
        int[] prompt = EngineTest.prompt(4, 6);
        int[] tokens = EngineTest.run(engine, prompt, SamplingParams.greedy(6).withLimits(6, 0, true), TextStream.NONE).tokens();
        assertThat(model.logitSteps.get()).isZero();
        int[] viaHost = EngineTest.run(engine, prompt, SamplingParams.greedy(6).withLimits(6, 0, true).withLogprobs(0),
                TextStream.NONE).tokens();
        assertThat(viaHost).containsExactly(tokens);
    }

    @Test
    void penaltiesAndMinTokensKeepTheHostPath() throws Exception {
        int[] prompt = EngineTest.prompt(5, 4);
        EngineTest.run(engine, prompt, sampled(9).withPenalties(0.5, 0, 1), TextStream.NONE);
        assertThat(model.samplingSteps.get()).isZero();
        EngineTest.run(engine, prompt, sampled(9).withLimits(12, 3, true), TextStream.NONE);
        assertThat(model.samplingSteps.get()).as("after the 3 masked tokens the backend draws").isEqualTo(9);
    }
}
