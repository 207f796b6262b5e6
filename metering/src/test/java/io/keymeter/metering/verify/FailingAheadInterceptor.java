package io.keymeter.metering.verify;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/** Throws a {@link StackOverflowError} from the poll of verify's reader ahead, as often as {@link #ERRORS} says. */
public class FailingAheadInterceptor implements ConsumerInterceptor<Object, Object> {

    static final AtomicInteger ERRORS = new AtomicInteger();
    private boolean ahead;

    /** Kafka properties with this interceptor on every consumer made from them (it acts on the reader ahead's only). */
    static KafkaProperties installed() {
        KafkaProperties properties = new KafkaProperties();
        properties.getConsumer().getProperties().put("interceptor.classes", FailingAheadInterceptor.class.getName());
        return properties;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        ahead = String.valueOf(configs.get("client.id")).endsWith("-ahead");
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        if (ahead && ERRORS.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new StackOverflowError("a test's, in the reader ahead");
        }
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    @Override
    public void close() {
    }
}
