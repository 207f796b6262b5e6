package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void aKeyStateKeepsItsListsAndReadsMissingOnesAsEmpty() {
        ApiKeyState state = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.ACTIVE, Instant.EPOCH, "hash",
                List.of("premium:user:basemaps"), List.of("item-1"), List.of("https://example.com"), Instant.EPOCH);
        assertThat(state.privileges()).containsExactly("premium:user:basemaps");
        assertThat(state.itemAccess()).containsExactly("item-1");
        assertThat(state.referrers()).containsExactly("https://example.com");

        ApiKeyState bare = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.ACTIVE, Instant.EPOCH, "hash", null,
                null, null, Instant.EPOCH);
        assertThat(bare.privileges()).isEmpty();
        assertThat(bare.itemAccess()).isEmpty();
        assertThat(bare.referrers()).isEmpty();
        assertThat(bare.toString()).doesNotContain("hash");
    }

    @Test
    void aStatementKeepsItsLinesAndReadsMissingOnesAsEmpty() {
        StatementLine line = new StatementLine("geocoding", 1, 2, 0, 2, BigDecimal.ONE, BigDecimal.ONE);
        assertThat(newStatement(List.of(line)).lines()).containsExactly(line);
        assertThat(newStatement(null).lines()).isEmpty();
    }

    private static Statement newStatement(List<StatementLine> lines) {
        return new Statement("s1", "acme", "2026-11", "invoice", Instant.EPOCH, "EUR", lines, BigDecimal.ONE);
    }
}
