package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeyStatusTest {

    @Test
    void everyStatusReadsBackFromItsJsonAndAnUnknownOneAsNull() {
        for (KeyStatus status : KeyStatus.values()) {
            assertThat(KeyStatus.fromJson(status.json())).isSameAs(status);
        }
        assertThat(KeyStatus.fromJson("suspended")).isNull();
        assertThat(KeyStatus.fromJson("ACTIVE")).isNull();
    }

    @Test
    void everyRejectionReasonReadsBackFromItsCodeAndAnUnknownOneIsRefused() {
        for (RejectionReason reason : RejectionReason.values()) {
            assertThat(RejectionReason.fromCode(reason.code())).isSameAs(reason);
        }
        assertThatThrownBy(() -> RejectionReason.fromCode("no-such-reason"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-reason");
    }
}
