package io.keymeter.metering.aggregation;

import io.keymeter.events.UsageDaily;
import org.apache.kafka.streams.kstream.Reducer;

/**
 * Adds a usage delta to the running daily totals of the same account, credential, service and day. A total that
 * would pass what a {@code long} holds fails the delta, which the dead-letter handler routes and counts: wrapped,
 * the day read negative units and billed a negative cost.
 */
public final class UsageAdder implements Reducer<UsageDaily> {

    @Override
    public UsageDaily apply(UsageDaily total, UsageDaily delta) {
        try {
            return new UsageDaily(total.accountId(), total.credentialId(), total.service(), total.date(),
                    Math.addExact(total.requests(), delta.requests()), Math.addExact(total.units(), delta.units()));
        } catch (ArithmeticException e) {
            throw new ArithmeticException("usage of credential " + total.credentialId() + " for " + total.service()
                    + " on " + total.date() + " would pass " + Long.MAX_VALUE + " requests or units; "
                    + delta.requests() + " request(s) of " + delta.units() + " units not added");
        }
    }
}
