package io.keymeter.metering;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.aggregation.UsageBinarySerde;
import io.keymeter.metering.alerts.AlertState;
import io.keymeter.metering.alerts.AlertStateSerde;
import io.keymeter.metering.enforcement.ArrivedRequest;
import io.keymeter.metering.enforcement.DecodedKeyStates;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;

/** The serdes of metering's own stores and internal topics (public topics bring theirs from {@code Topics}). */
public final class MeteringSerdes {

    public static final Serde<String> STRING = Serdes.String();
    public static final Serde<Long> LONG = Serdes.Long();
    /** JSON; a state this version cannot read reads as none (see {@link AlertStateSerde}). */
    public static final Serde<AlertState> ALERT_STATE = AlertStateSerde.serde();
    /** {@code keymeter.requests} as read by metering: the parsed log and its bytes (the join buffer stores those). */
    public static final Serde<ArrivedRequest> ARRIVED_REQUEST = ArrivedRequest.serde();
    /** Requests waiting in the join buffer, read leniently (see {@link ArrivedRequest#bufferedSerde}). */
    public static final Serde<ArrivedRequest> BUFFERED_REQUEST = ArrivedRequest.bufferedSerde();
    public static final Serde<Bytes> BYTES = Serdes.Bytes();
    /** Key states in the versioned store: the topic's JSON, parsed once per distinct state. */
    public static final Serde<ApiKeyState> KEY_STATE = DecodedKeyStates.serde();
    /** Usage on the internal repartition topic and in the totals store (the public topic keeps JSON). */
    public static final Serde<UsageDaily> USAGE = UsageBinarySerde.serde();

    private MeteringSerdes() {
    }
}
