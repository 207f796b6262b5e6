package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class CredentialIdsTest {

    @Test
    void onlyOurUuidsAreEchoed() {
        String id = UUID.randomUUID().toString();
        assertThat(CredentialIds.describe(id)).isEqualTo("credential " + id);
        assertThat(CredentialIds.describe(id.toUpperCase())).isEqualTo("credential with this id");
        assertThat(CredentialIds.describe("x".repeat(3000))).isEqualTo("credential with this id");
        assertThat(CredentialIds.describe("<script>")).isEqualTo("credential with this id");
        assertThat(CredentialIds.isWellFormed(null)).isFalse();
    }
}
