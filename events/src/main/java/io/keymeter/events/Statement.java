package io.keymeter.events;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * A billing statement on {@code keymeter.billing-statements}. {@code kind} is {@code final} at cycle close and
 * {@code adjustment} for usage that arrived later (carrying only the difference).
 */
public record Statement(
        String statementId,
        String accountId,
        String cycle,
        String kind,
        Instant issuedAt,
        String currency,
        List<StatementLine> lines,
        BigDecimal amountDue) {

    public Statement {
        lines = lines == null ? List.of() : List.copyOf(lines);
    }
}
