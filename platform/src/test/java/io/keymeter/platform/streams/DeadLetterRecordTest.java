package io.keymeter.platform.streams;

import static io.keymeter.platform.streams.FailedRecord.header;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Dead letters stay within the producer's size limit (the broker test: {@code MeteringIntegrationTest}). */
class DeadLetterRecordTest {

    private static final int LIMIT = DeadLetterRecord.DEFAULT_MAX_REQUEST_SIZE;

    @Test
    void aRecordNearTheSizeLimitLeavesItsValueOnItsTopicAndSaysWhere() {
        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(1_048_000), new RecordHeaders());
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, new IllegalStateException("bad"),
                LIMIT);

        assertThat(letter.value()).isNull();
        assertThat(letter.key()).isEqualTo(failed.sourceRawKey());
        assertThat(header(letter, DeadLetterRecord.OMITTED)).isEqualTo("value (1048000 bytes): too large for a dead "
                + "letter within max.request.size 1048576; the record is on keymeter.requests partition 4 at offset 9");
        assertThat(header(letter, DeadLetterRecord.MESSAGE)).isEqualTo("bad");
        assertThat(header(letter, DeadLetterRecord.STACKTRACE)).startsWith("java.lang.IllegalStateException: bad");
        assertThat(bytesOf(letter)).isLessThanOrEqualTo(LIMIT - DeadLetterRecord.FRAMING_BYTES);
    }

    @Test
    void aLetterThatFitsIsWholeAndCarriesNoNote() {
        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(1_000_000), new RecordHeaders());
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, new IllegalStateException("bad"),
                LIMIT);

        assertThat(letter.value()).isEqualTo(failed.sourceRawValue());
        assertThat(letter.headers().lastHeader(DeadLetterRecord.OMITTED)).isNull();
    }

    @Test
    void theProducersOwnLimitIsTheOneKeptPrefixedFirst() {
        assertThat(DeadLetterRecord.maxRequestSize(Map.of())).isEqualTo(1_048_576);
        assertThat(DeadLetterRecord.maxRequestSize(Map.of("max.request.size", "50000"))).isEqualTo(50_000);
        assertThat(DeadLetterRecord.maxRequestSize(Map.of("max.request.size", 50_000,
                "producer.max.request.size", 20_000))).isEqualTo(20_000);

        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(19_500), new RecordHeaders());
        assertThat(DeadLetterRecord.of("dead", failed, new IllegalStateException("bad"), 20_000).value()).isNull();
        assertThat(DeadLetterRecord.of("dead", failed, new IllegalStateException("bad"), 50_000).value())
                .hasSize(19_500);
    }

    @Test
    void aHugeMessageKeyAndHeadersAreCutTooUntilTheLetterFits() {
        Headers source = new RecordHeaders().add("big", bytes(400_000)).add("small", bytes(10));
        FailedRecord failed = new FailedRecord(4, 9, bytes(700_000), bytes(500), source);
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed,
                new IllegalArgumentException("m".repeat(200_000)), LIMIT);

        assertThat(letter.key()).isNull();
        assertThat(letter.value()).isNull();
        assertThat(header(letter, DeadLetterRecord.MESSAGE))
                .hasSize(DeadLetterRecord.SHRUNK_TEXT_CHARS + "… (195904 more chars)".length());
        assertThat(letter.headers().lastHeader("big")).isNull();
        assertThat(header(letter, DeadLetterRecord.OMITTED)).startsWith("value (500 bytes), most of the "
                + "stack trace and message, key (700000 bytes) and 2 source headers: too large");
        assertThat(header(letter, DeadLetterRecord.OFFSET)).isEqualTo("9");
        assertThat(bytesOf(letter)).isLessThanOrEqualTo(LIMIT - DeadLetterRecord.FRAMING_BYTES);
    }

    private static long bytesOf(ProducerRecord<byte[], byte[]> letter) {
        long bytes = (letter.key() == null ? 0 : letter.key().length)
                + (letter.value() == null ? 0 : letter.value().length);
        for (Header header : letter.headers()) {
            bytes += header.key().getBytes(StandardCharsets.UTF_8).length
                    + (header.value() == null ? 0 : header.value().length);
        }
        return bytes;
    }

    private static byte[] bytes(int n) {
        byte[] bytes = new byte[n];
        Arrays.fill(bytes, (byte) 'x');
        return bytes;
    }
}
