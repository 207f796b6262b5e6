package io.keymeter.events;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * One service on a statement; money is a decimal string in JSON. Counts are whole numbers of any size: summed in a
 * {@code long}, a cycle's units above 9.2×10^18 wrapped to negative units and money.
 */
public record StatementLine(
        String service,
        BigInteger requests,
        BigInteger units,
        BigInteger freeUnits,
        BigInteger billableUnits,
        BigDecimal pricePer1000,
        BigDecimal amount) {

    public StatementLine(String service, long requests, long units, long freeUnits, long billableUnits,
                         BigDecimal pricePer1000, BigDecimal amount) {
        this(service, BigInteger.valueOf(requests), BigInteger.valueOf(units), BigInteger.valueOf(freeUnits),
                BigInteger.valueOf(billableUnits), pricePer1000, amount);
    }
}
