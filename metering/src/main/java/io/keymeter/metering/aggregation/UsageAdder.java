package io.keymeter.metering.aggregation;

import io.keymeter.events.UsageDaily;
import org.apache.kafka.streams.kstream.Reducer;

/** Adds a usage delta to the running daily totals of the same account, credential, service and day. */
public final class UsageAdder implements Reducer<UsageDaily> {

    @Override
    public UsageDaily apply(UsageDaily total, UsageDaily delta) {
        return new UsageDaily(total.accountId(), total.credentialId(), total.service(), total.date(),
                total.requests() + delta.requests(), total.units() + delta.units());
    }
}
