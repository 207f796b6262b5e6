package io.keymeter.platform.streams;

import static io.keymeter.platform.streams.FailedRecord.header;
import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeys;
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
    /** 2025-12-04T12:00:00Z, after every record's time below but the ones stamped ahead. */
    private static final long NOW = 1_764_849_600_000L;

    /**
     * A request stamped 2100-01-01, produced straight to the request log, got a dead letter stamped so, which the
     * broker refuses (more than message.timestamp.after.max.ms ahead of its clock): the stream thread failed on it
     * for good, and metering stopped. Such a letter is stamped now, the record's own time in a header.
     */
    @Test
    void aLetterIsNeverStampedAheadOfItsWritingOrBefore1970() {
        long year2100 = 4_102_444_800_000L;
        for (long time : new long[] {year2100, NOW + 1, -1}) {
            FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(100), new RecordHeaders(), time);
            ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, null,
                    new IllegalStateException("bad"), LIMIT, NOW);
            assertThat(letter.timestamp()).as("%d", time).isEqualTo(NOW);
            assertThat(header(letter, DeadLetterRecord.TIMESTAMP)).isEqualTo(String.valueOf(time));
        }
        FailedRecord past = FailedRecord.at(4, 9);
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", past, null,
                new IllegalStateException("bad"), LIMIT, NOW);
        assertThat(letter.timestamp()).isEqualTo(past.timestamp());
        assertThat(letter.headers().lastHeader(DeadLetterRecord.TIMESTAMP)).isNull();
    }

    @Test
    void aRecordNearTheSizeLimitLeavesItsValueOnItsTopicAndSaysWhere() {
        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(1_048_000), new RecordHeaders());
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, null,
                new IllegalStateException("bad"), LIMIT, NOW);

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
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, null,
                new IllegalStateException("bad"), LIMIT, NOW);

        assertThat(letter.value()).isEqualTo(failed.sourceRawValue());
        assertThat(letter.headers().lastHeader(DeadLetterRecord.OMITTED)).isNull();
    }

    /** The failed record as its processor got it goes first: the source record is the one a replay needs. */
    @Test
    void aFailedRecordTooLargeToDescribeIsLeftOutBeforeTheSourceValue() {
        String text = "y".repeat(300_000);
        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(300_000), new RecordHeaders());
        ProducerRecord<byte[], byte[]> large = DeadLetterRecord.of("dead", failed,
                new org.apache.kafka.streams.processor.api.Record<>("k", text, failed.timestamp()),
                new IllegalStateException("bad"), LIMIT, NOW);

        assertThat(large.value()).isEqualTo(failed.sourceRawValue());
        assertThat(large.headers().lastHeader(DeadLetterRecord.FAILED_RECORD)).isNull();
        assertThat(header(large, DeadLetterRecord.OMITTED)).startsWith("the failed record as its processor got it "
                + "(300057 chars): too large");
        assertThat(bytesOf(large)).isLessThanOrEqualTo(LIMIT - DeadLetterRecord.FRAMING_BYTES);

        ProducerRecord<byte[], byte[]> fits = DeadLetterRecord.of("dead", failed,
                new org.apache.kafka.streams.processor.api.Record<>("k", text.substring(200_000), failed.timestamp()),
                new IllegalStateException("bad"), LIMIT, NOW);
        assertThat(fits.value()).isEqualTo(failed.sourceRawValue());
        assertThat(header(fits, DeadLetterRecord.FAILED_RECORD)).contains("\"value\":\"" + text.substring(200_000));
        assertThat(fits.headers().lastHeader(DeadLetterRecord.OMITTED)).isNull();
    }

    /** A value neither JSON nor its {@code toString()} can write: the letter goes without it, never not at all. */
    @Test
    void aFailedRecordThatCannotBeWrittenLeavesTheLetterWhole() {
        Object unwritable = new Object() {
            public String getBroken() {
                throw new IllegalStateException("no getter");
            }

            @Override
            public String toString() {
                throw new IllegalStateException("no text");
            }
        };
        FailedRecord failed = FailedRecord.at(4, 9);
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed,
                new org.apache.kafka.streams.processor.api.Record<>("k", unwritable, failed.timestamp()),
                new IllegalStateException("bad"), LIMIT, NOW);

        assertThat(letter.value()).isEqualTo(failed.sourceRawValue());
        assertThat(header(letter, DeadLetterRecord.MESSAGE)).isEqualTo("bad");
        assertThat(letter.headers().lastHeader(DeadLetterRecord.FAILED_RECORD)).isNull();
    }

    @Test
    void theProducersOwnLimitIsTheOneKeptPrefixedFirst() {
        assertThat(DeadLetterRecord.maxRequestSize(Map.of())).isEqualTo(1_048_576);
        assertThat(DeadLetterRecord.maxRequestSize(Map.of("max.request.size", "50000"))).isEqualTo(50_000);
        assertThat(DeadLetterRecord.maxRequestSize(Map.of("max.request.size", 50_000,
                "producer.max.request.size", 20_000))).isEqualTo(20_000);

        FailedRecord failed = new FailedRecord(4, 9, bytes(10), bytes(19_500), new RecordHeaders());
        IllegalStateException bad = new IllegalStateException("bad");
        assertThat(DeadLetterRecord.of("dead", failed, null, bad, 20_000, NOW).value()).isNull();
        assertThat(DeadLetterRecord.of("dead", failed, null, bad, 50_000, NOW).value()).hasSize(19_500);
    }

    @Test
    void aHugeMessageKeyAndHeadersAreCutTooUntilTheLetterFits() {
        Headers source = new RecordHeaders().add("big", bytes(400_000)).add("small", bytes(10));
        FailedRecord failed = new FailedRecord(4, 9, bytes(700_000), bytes(500), source);
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed, null,
                new IllegalArgumentException("m".repeat(200_000)), LIMIT, NOW);

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

    /** The failed record as a processor got it: a request's parsed fields and the bytes it arrived as. */
    record Arrived(String operation, byte[] raw) {
    }

    /**
     * A gateway producing directly put a plaintext key in a record: as its key, in a field of its own, in a header,
     * quoted by an exception. The letter copied each (and the failed record's bytes as base64, which no masking of the
     * text would find); now every key's secret is masked, its keyId kept, and the bytes given as their count.
     */
    @Test
    void noSecretOfAKeyInTheRecordReachesTheLetter() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        String secret = key.apiKey().substring(20, 52);
        byte[] value = ("{\"requestId\":\"r1\",\"apiKey\":\"" + key.apiKey() + "\"}").getBytes(StandardCharsets.UTF_8);
        Headers headers = new RecordHeaders().add("authorization", ("Bearer " + key.apiKey()).getBytes(StandardCharsets.UTF_8))
                .add("empty", null);
        FailedRecord failed = new FailedRecord(4, 9, key.apiKey().getBytes(StandardCharsets.UTF_8), value, headers);
        ProducerRecord<byte[], byte[]> letter = DeadLetterRecord.of("dead", failed,
                new org.apache.kafka.streams.processor.api.Record<>(key.apiKey(),
                        new Arrived("GET /tile?token=" + key.apiKey(), value), failed.timestamp()),
                new IllegalArgumentException("refused " + key.apiKey()), LIMIT, NOW);

        StringBuilder all = new StringBuilder(new String(letter.key(), StandardCharsets.ISO_8859_1))
                .append(new String(letter.value(), StandardCharsets.ISO_8859_1));
        for (Header header : letter.headers()) {
            all.append(header.key()).append(header.value() == null ? "" : new String(header.value(),
                    StandardCharsets.ISO_8859_1));
        }
        assertThat(all.toString()).doesNotContain(secret).contains("km_" + key.keyId() + "_***");
        assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"requestId\":\"r1\",\"apiKey\":\"km_" + key.keyId() + "_" + "*".repeat(38) + "\"}");
        assertThat(header(letter, DeadLetterRecord.FAILED_RECORD)).contains("\"raw\":\"(" + value.length + " bytes)\"");
        assertThat(letter.headers().lastHeader("empty").value()).isNull();
        assertThat(header(letter, DeadLetterRecord.PARTITION)).isEqualTo("4");
        assertThat(header(letter, DeadLetterRecord.OFFSET)).isEqualTo("9");
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
