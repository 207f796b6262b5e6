package io.keymeter.billing.cycles;

/** Requests and units: of one day in the usage store, or summed over a cycle. */
public record Totals(long requests, long units) {

    public static final Totals ZERO = new Totals(0, 0);

    public Totals plus(Totals other) {
        return new Totals(requests + other.requests, units + other.units);
    }

    public boolean isZero() {
        return requests == 0 && units == 0;
    }
}
