package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.KeyStatus;
import io.keymeter.events.RejectionReason;
import io.keymeter.metering.KeyFixtures;
import io.keymeter.metering.KeyFixtures.TestKey;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestKeyJoinerTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private final TestKey key = TestKey.create("acme", "cred-1", 1);
    private final RequestKeyJoiner joiner = new RequestKeyJoiner();

    @Test
    void judgesAtTheRequestsOwnTimestamp() {
        Decision late = joiner.apply(key.request("r", KeyFixtures.BASEMAPS, 1, NOW.plusSeconds(10)),
                key.state(KeyStatus.ACTIVE, NOW.plusSeconds(10), NOW));
        assertThat(late.reason()).isEqualTo(RejectionReason.EXPIRED);
        assertThat(late.rejection().credentialId()).isEqualTo("cred-1");
        assertThat(late.rejection().accountId()).isEqualTo("acme");
    }

    @Test
    void aForgedSecretIsNotAttributedToTheCredential() {
        Decision forged = joiner.apply(key.forged("r", KeyFixtures.BASEMAPS, NOW), key.state(KeyStatus.ACTIVE, NOW.plusSeconds(60), NOW));
        assertThat(forged.reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
        assertThat(forged.rejection().credentialId()).isNull();
        assertThat(forged.rejection().keyId()).isEqualTo(key.keyId());
    }

    @Test
    void anAcceptedRequestKeepsItsKeyState() {
        Decision ok = joiner.apply(key.request("r", KeyFixtures.BASEMAPS, 4, NOW), key.state(KeyStatus.ACTIVE, NOW.plusSeconds(60), NOW));
        assertThat(ok.accepted()).isTrue();
        assertThat(ok.credentialId()).isEqualTo("cred-1");
    }
}
