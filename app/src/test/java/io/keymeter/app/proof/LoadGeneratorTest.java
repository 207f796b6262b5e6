package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.load.LoadGenerator;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {

    private final LoadGenerator.Settings settings = LoadGenerator.Settings.of(7, 20_000, Instant.parse("2026-10-30T12:00:00Z"));

    @Test
    void theSameSeedGivesTheSameScenario() {
        LoadGenerator.Scenario a = new LoadGenerator(settings).generate();
        LoadGenerator.Scenario b = new LoadGenerator(settings).generate();

        assertThat(a.requests().stream().map(r -> r.log()).toList()).isEqualTo(b.requests().stream().map(r -> r.log()).toList());
        assertThat(a.keyStates()).isEqualTo(b.keyStates());
    }

    @Test
    void theLedgerAccountsForEveryDistinctRequestOnceAndEveryReasonOccurs() {
        LoadGenerator.Scenario scenario = new LoadGenerator(settings).generate();
        Set<String> distinct = scenario.requests().stream().map(r -> r.log().requestId()).collect(Collectors.toSet());

        long rejected = scenario.ledger().rejectionsByReason().values().stream().mapToLong(Long::longValue).sum();
        assertThat(scenario.ledger().acceptedRequests() + rejected).isEqualTo(distinct.size()).isEqualTo(20_000);
        assertThat(scenario.requests().size()).as("resends").isGreaterThan(distinct.size());
        assertThat(scenario.ledger().rejectionsByReason().keySet()).containsAll(List.of(RejectionReason.UNKNOWN_KEY,
                RejectionReason.INVALIDATED, RejectionReason.EXPIRED, RejectionReason.SERVICE_NOT_PERMITTED,
                RejectionReason.ITEM_NOT_PERMITTED, RejectionReason.REFERRER_NOT_PERMITTED));
    }

    @Test
    void requestsCrossAMonthBoundaryAndSomeArriveLate() {
        List<RequestLog> logs = new LoadGenerator(settings).generate().requests().stream().map(r -> r.log()).toList();

        assertThat(logs.stream().map(l -> l.timestamp().atZone(ZoneOffset.UTC).getMonthValue()).distinct())
                .containsExactlyInAnyOrder(10, 11);
        long outOfOrder = 0;
        for (int i = 1; i < logs.size(); i++) {
            if (logs.get(i).timestamp().isBefore(logs.get(i - 1).timestamp())) {
                outOfOrder++;
            }
        }
        assertThat(outOfOrder).isGreaterThan(0);
    }

    /**
     * What the proofs produce, as the topics' serializers write it: no key the scenario holds, the strangers' and the
     * guessed secrets' too, nor the secret part alone. (It compared printed records, and toString leaves out most of a
     * key state's fields.)
     */
    @Test
    void noPlaintextKeyIsInATopicRecord() {
        LoadGenerator.Scenario scenario = new LoadGenerator(settings).generate();
        StringBuilder written = new StringBuilder();
        for (LoadGenerator.Request request : scenario.requests()) {
            written.append(new String(Topics.REQUESTS.valueSerde().serializer().serialize(Topics.REQUESTS.name(),
                    request.log()), StandardCharsets.UTF_8)).append('\n');
        }
        for (ApiKeyState state : scenario.keyStates()) {
            written.append(new String(Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(),
                    state), StandardCharsets.UTF_8)).append('\n');
        }
        Set<String> keys = new HashSet<>(scenario.plaintextKeys());
        scenario.requests().forEach(r -> keys.add(r.apiKey()));
        assertThat(keys).as("strangers' and guessed keys too").hasSizeGreaterThan(scenario.plaintextKeys().size());
        String text = written.toString();
        assertThat(text).contains("\"secretHash\"");
        for (String key : keys) {
            assertThat(text).doesNotContain(key).doesNotContain(key.substring(ApiKeys.PREFIX.length()
                    + ApiKeys.KEY_ID_LENGTH + 1));
        }
    }
}
