package io.keymeter.billing.cycles;

import java.math.BigInteger;

/**
 * Requests and units: of one day in the usage store, or summed over a cycle. Sums are exact: in a {@code long} a
 * cycle's units above 9.2×10^18 wrapped, and the report showed negative units and money.
 */
public record Totals(BigInteger requests, BigInteger units) {

    public static final Totals ZERO = new Totals(0, 0);

    public Totals(long requests, long units) {
        this(BigInteger.valueOf(requests), BigInteger.valueOf(units));
    }

    public Totals plus(Totals other) {
        return new Totals(requests.add(other.requests), units.add(other.units));
    }

    public boolean isZero() {
        return requests.signum() == 0 && units.signum() == 0;
    }
}
