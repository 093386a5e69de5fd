package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Backend;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.weights.KvCacheScales;
import io.tramontane.weights.ModelWeights;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelKvCacheScalesTest {

    @Test
    void theModelHandsTheCheckpointsKvCacheScalesToItsBackend() {
        ModelConfig config = TestModels.dense(32, 2, 4, 2, 8, 48, 50);
        ModelWeights random = TestModels.random(config, 3);
        KvCacheScales scales = new KvCacheScales(new float[] {0.5f, 2f}, new float[] {0.25f, 4f});
        ModelWeights weights = new ModelWeights(config, random.tokenEmbeddings(), random.layers(), random.finalNorm(),
                random.output(), scales);
        List<KvCacheScales> seen = new ArrayList<>();
        CpuBackend cpu = new CpuBackend(new CpuBackend.Options(1, true));
        try (Model model = new Model(weights, recording(cpu, seen), Shard.of(config, 0, 1), 4, 16)) {  // closes the backend
            assertThat(model).isNotNull();
        }
        assertThat(seen).containsExactly(scales);
    }

    /** {@code backend}, noting the scales every six-argument allocateKvCache receives. */
    private static Backend recording(Backend backend, List<KvCacheScales> seen) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("allocateKvCache") && args.length == 6) seen.add((KvCacheScales) args[5]);
            try {
                return method.invoke(backend, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, handler);
    }
}
