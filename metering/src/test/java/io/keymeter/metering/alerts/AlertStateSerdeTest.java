package io.keymeter.metering.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

/** The store's use of an unreadable state is in {@code MeteringTopologyTest} (a use alerts, the sweep goes on). */
class AlertStateSerdeTest {

    private final Serde<AlertState> serde = AlertStateSerde.serde();

    @Test
    void aStateIsWrittenAndReadBackAsJson() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        AlertState state = new AlertState("acme", "cred-1", "invalidated", 3, at, at.plusSeconds(60), at, at, 3L, at,
                at.plusSeconds(1));
        byte[] bytes = serde.serializer().serialize("t", state);
        assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith("{").contains("\"count\":3");
        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(state);
    }

    @Test
    void aStateThisVersionCannotReadReadsAsNone() {
        assertThat(serde.deserializer().deserialize("t", "{\"count\":{".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(serde.deserializer().deserialize("t", "{\"count\":\"many\"}".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(serde.deserializer().deserialize("t", new byte[] {(byte) 0xff, 0x00})).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }

    @Test
    void aStateWithoutWhatEveryStateHasReadsAsNone() {
        // a later version's fields, renamed: unknown fields are ignored, so these parse with the known ones missing
        assertThat(read("{\"count\":5,\"lastUse\":\"2026-11-01T10:00:00Z\"}")).isNull();
        assertThat(read("{}")).isNull();
        String complete = "{\"accountId\":\"acme\",\"credentialId\":\"cred-1\",\"reason\":\"expired\",\"count\":2,"
                + "\"firstSeen\":\"2026-11-01T10:00:00Z\",\"lastSeen\":\"2026-11-01T10:05:00Z\"}";
        assertThat(read(complete)).as("the fields every version wrote; the rest may be missing").isNotNull();
        assertThat(read(complete.replace("\"accountId\":\"acme\",", ""))).as("an account the key state lacked")
                .isNotNull();
        assertThat(read(complete.replace("\"count\":2", "\"count\":0"))).isNull();
        assertThat(read(complete.replace("\"reason\":\"expired\",", ""))).isNull();
        assertThat(read(complete.replace(",\"lastSeen\":\"2026-11-01T10:05:00Z\"", ""))).isNull();
    }

    private AlertState read(String json) {
        return serde.deserializer().deserialize("t", json.getBytes(StandardCharsets.UTF_8));
    }

    /** The first use of a dead key is a state of count 1: it must read back, not as none. */
    @Test
    void aStateOfOneUseIsReadBack() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        AlertState first = new AlertState("acme", "cred-1", "expired", 1, at, at, null, null, null, null, null);

        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", first))).isEqualTo(first);
    }

    @Test
    void aStateIsLastTouchedAtItsTouchOrElseItsLastUseAndAnAlertKeepsItsUses() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        AlertState untouched = new AlertState("acme", "cred-1", "expired", 2, at, at.plusSeconds(5), null, null, null,
                null, null);
        assertThat(untouched.lastTouched()).isEqualTo(at.plusSeconds(5));
        AlertState touched = new AlertState("acme", "cred-1", "expired", 2, at, at.plusSeconds(5), null,
                at.plusSeconds(9), null, null, null);
        assertThat(touched.lastTouched()).isEqualTo(at.plusSeconds(9));

        AlertState alerted = untouched.alerted(at.plusSeconds(60));
        assertThat(alerted.alertedCount()).isEqualTo(2L);
        assertThat(alerted.alertedAt()).isEqualTo(at.plusSeconds(60));
        assertThat(alerted.lastAlertAt()).isEqualTo(at.plusSeconds(5));
        assertThat(alerted.count()).isEqualTo(2);
    }

    /**
     * A sweep's report counts the next interval from its own moment in the uses' time: the last use's time plus the
     * instance's time since that use arrived (a key in steady use: about now; a backlog just read: its last use). A
     * use made earlier and arriving later does not move that arrival.
     */
    @Test
    void aSweepsReportCountsTheNextIntervalFromItsMomentInTheUsesTime() {
        Instant use = Instant.parse("2026-11-01T10:00:00Z");
        Instant sweep = use.plus(Duration.ofMinutes(29));
        AlertState live = new AlertState("acme", "cred-1", "invalidated", 2, use, use, use.minusSeconds(60), use, 1L,
                use.minusSeconds(60), use);
        AlertState swept = live.swept(sweep);
        assertThat(swept.lastAlertAt()).isEqualTo(sweep);
        assertThat(swept.alertedAt()).isEqualTo(sweep);
        assertThat(swept.alertedCount()).isEqualTo(2L);
        assertThat(swept).usingRecursiveComparison().ignoringFields("lastAlertAt", "alertedAt", "alertedCount")
                .isEqualTo(live);

        // a use made a minute before the last one arrives 28 minutes after it (a gateway's buffer)
        AlertState late = new AlertState("acme", "cred-1", "invalidated", 3, use.minusSeconds(60), use,
                use.minusSeconds(60), use.plus(Duration.ofMinutes(28)), 1L, use.minusSeconds(60), use);
        assertThat(late.swept(sweep).lastAlertAt()).isEqualTo(sweep);
        AlertState earlierVersion = new AlertState("acme", "cred-1", "invalidated", 2, use, use, use.minusSeconds(60),
                use.plusSeconds(30), 1L, use.minusSeconds(60), null);
        assertThat(earlierVersion.swept(sweep).lastAlertAt()).as("arrival unknown: the last touch stands in")
                .isEqualTo(sweep.minusSeconds(30));

        Instant arrived = use.plus(Duration.ofDays(3)); // a backlog: its uses three days old, one read a second ago
        AlertState backlog = new AlertState("acme", "cred-1", "invalidated", 5, use, use, use, arrived, 1L, arrived,
                arrived);
        assertThat(backlog.swept(arrived.plusSeconds(1)).lastAlertAt()).isEqualTo(use.plusSeconds(1));
        assertThat(backlog.swept(arrived.minusSeconds(1)).lastAlertAt()).as("a clock set back").isEqualTo(use);
    }
}
