package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time of a request is its own {@code timestamp}, whatever the producer set as record time: gateways may
 * produce to {@code keymeter.requests} directly. Falls back to the record time (never drops a record).
 */
public final class RequestTimestampExtractor implements TimestampExtractor {

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        if (record.value() instanceof ArrivedRequest arrived && arrived.log() != null && arrived.log().timestamp() != null) {
            return arrived.log().timestamp().toEpochMilli();
        }
        if (record.value() instanceof RequestLog request && request.timestamp() != null) {
            return request.timestamp().toEpochMilli();
        }
        return Math.max(record.timestamp(), 0);
    }
}
