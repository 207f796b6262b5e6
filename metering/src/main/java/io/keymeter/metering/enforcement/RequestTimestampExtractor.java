package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time of a request is its own {@code timestamp}, whatever the producer set as record time: gateways may
 * produce to {@code keymeter.requests} directly. Falls back to the record time (never drops a record): also for a
 * timestamp before 1970 or beyond what a millisecond count holds, which Kafka Streams would otherwise skip with
 * only a metric (negative) or fail its thread on for ever ({@code toEpochMilli} overflowing); {@link RequestBounds}
 * then sends such a request to the dead-letter topic.
 */
public final class RequestTimestampExtractor implements TimestampExtractor {

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        Instant own = null;
        if (record.value() instanceof ArrivedRequest arrived && arrived.log() != null) {
            own = arrived.log().timestamp();
        } else if (record.value() instanceof RequestLog request) {
            own = request.timestamp();
        }
        return own != null && RequestBounds.representable(own) ? own.toEpochMilli() : Math.max(record.timestamp(), 0);
    }
}
