package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.credentials.lifecycle.CommandReply.PublishedKey;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.platform.keys.LocalKeyStates;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

class VerifyCatchUpTest {

    private static final Instant T0 = Instant.parse("2026-12-05T10:00:00.123456Z");

    private final States states = new States();

    /** A regenerate publishes the old key dead and the new one active: both must be read. */
    @Test
    void aChangeIsReadWhenVerifyHoldsEachStateItPublishedOrALaterOne() {
        List<PublishedKey> regenerated = List.of(new PublishedKey("old", KeyStatus.INVALIDATED, T0),
                new PublishedKey("new", KeyStatus.ACTIVE, T0));
        states.put(state("old", KeyStatus.ACTIVE, T0.minusSeconds(60)));

        assertThat(VerifyCatchUp.read(states, regenerated)).as("neither read").isFalse();
        states.put(state("new", KeyStatus.ACTIVE, T0));
        assertThat(VerifyCatchUp.read(states, regenerated)).as("the old key still active").isFalse();
        states.put(state("old", KeyStatus.INVALIDATED, T0.plusNanos(1_000)));
        assertThat(VerifyCatchUp.read(states, regenerated)).as("a later state of the old key").isTrue();
    }

    @Test
    void aDeadKeyVerifyNeverHeldIsRead() {
        assertThat(VerifyCatchUp.read(states, List.of(new PublishedKey("gone", KeyStatus.INVALIDATED, T0)))).isTrue();
        assertThat(VerifyCatchUp.read(states, List.of(new PublishedKey("new", KeyStatus.ACTIVE, T0)))).isFalse();
    }

    @Test
    void theAnswerWaitsUntilVerifyHasReadTheChange() throws Exception {
        List<PublishedKey> generated = List.of(new PublishedKey("k1", KeyStatus.ACTIVE, T0));
        VerifyCatchUp catchUp = new VerifyCatchUp(provider(states));

        CompletableFuture<Boolean> readOnReturn = CompletableFuture.supplyAsync(() -> {
            catchUp.await(generated);
            return VerifyCatchUp.read(states, generated);
        });
        CompletableFuture.runAsync(() -> states.put(state("k1", KeyStatus.ACTIVE, T0)),
                CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));

        assertThat(readOnReturn.get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void nothingIsAwaitedFromAVerifyThatIsNotCurrentOrNotHere() {
        List<PublishedKey> generated = List.of(new PublishedKey("k1", KeyStatus.ACTIVE, T0));
        states.current = false;

        new VerifyCatchUp(provider(states)).await(generated);
        new VerifyCatchUp(new StaticListableBeanFactory().getBeanProvider(LocalKeyStates.class)).await(generated);

        assertThat(states.reads.get()).as("a verify answering 503 is not read").isZero();
    }

    private static ObjectProvider<LocalKeyStates> provider(LocalKeyStates states) {
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("states", states);
        return beans.getBeanProvider(LocalKeyStates.class);
    }

    private static ApiKeyState state(String keyId, KeyStatus status, Instant updatedAt) {
        return new ApiKeyState(keyId, "cred-1", "acme", 1, status, T0.plusSeconds(86_400), "hash",
                List.of("premium:user:basemaps"), List.of(), List.of(), updatedAt);
    }

    private static final class States implements LocalKeyStates {
        final Map<String, ApiKeyState> byKey = new ConcurrentHashMap<>();
        final AtomicInteger reads = new AtomicInteger();
        volatile boolean current = true;

        void put(ApiKeyState state) {
            byKey.put(state.keyId(), state);
        }

        @Override
        public ApiKeyState get(String keyId) {
            reads.incrementAndGet();
            return byKey.get(keyId);
        }

        @Override
        public boolean current() {
            return current;
        }
    }
}
