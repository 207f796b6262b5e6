package io.keymeter.metering;

import io.keymeter.events.JsonSerde;
import io.keymeter.metering.alerts.AlertState;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** The serdes of metering's own stores and internal topics (public topics bring theirs from {@code Topics}). */
public final class MeteringSerdes {

    public static final Serde<String> STRING = Serdes.String();
    public static final Serde<Long> LONG = Serdes.Long();
    public static final Serde<AlertState> ALERT_STATE = new JsonSerde<>(AlertState.class);

    private MeteringSerdes() {
    }
}
