package io.keymeter.billing.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.keymeter.events.StatementLine;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** The JSON answers of the usage and billing API (CONTRACT §3). Money is a decimal string. */
public final class ReportViews {

    private ReportViews() {
    }

    /** {@code end} is exclusive: the first instant of the next cycle. */
    public record CycleView(String id, Instant start, Instant end, String status) {
    }

    public record UsageReport(CycleView cycle, String currency, List<CredentialUsage> credentials,
                              List<StatementLine> services, BigDecimal amountDue) {
    }

    /**
     * {@code name} is {@code null}, not left out, for a credential whose creation the ledger has not seen.
     * {@code rejectedByReason} (beyond the contract): reason code → count, counted since the version that added it
     * (so it may sum to less than {@code rejectedRequests} in the cycle of an upgrade).
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record CredentialUsage(String credentialId, String name, List<ServiceUsage> services, long rejectedRequests,
                                  Map<String, Long> rejectedByReason, BigDecimal cost) {
    }

    /** {@code cost} is list price, before the account's free units. */
    public record ServiceUsage(String service, BigInteger requests, BigInteger units, BigDecimal cost) {
    }

    public record DailyUsage(List<DayUsage> days) {
    }

    public record DayUsage(LocalDate date, BigInteger requests, BigInteger units) {
    }

    public record StatementList(List<StatementView> statements) {
    }

    public record AlertList(List<AlertView> alerts) {
    }

    /**
     * A key used after it was invalidated or expired: metering's latest alert of it, with the uses counted since
     * {@code firstSeen}. {@code name} is {@code null}, not left out, for a credential whose creation the ledger has
     * not seen.
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record AlertView(String credentialId, String name, String keyId, String reason, long count,
                            Instant firstSeen, Instant lastSeen) {
    }

    public record StatementView(String statementId, String cycle, String kind, Instant issuedAt, String currency,
                                List<StatementLine> lines, BigDecimal amountDue) {
    }
}
