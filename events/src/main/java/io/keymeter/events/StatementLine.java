package io.keymeter.events;

import java.math.BigDecimal;

/** One service on a statement; money is a decimal string in JSON. */
public record StatementLine(
        String service,
        long requests,
        long units,
        long freeUnits,
        long billableUnits,
        BigDecimal pricePer1000,
        BigDecimal amount) {
}
