package io.keymeter.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class BodySpoolTest {

    private static final int CHUNK = BodySpool.CHUNK;

    @Test
    void aBodyIsReadBackByteForByteAndHoldsOnlyTheChunksItFills() throws IOException {
        BodySpool spool = new BodySpool(64L * CHUNK, Duration.ofMillis(100));
        for (int size : new int[] {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17}) {
            byte[] sent = new byte[size];
            new Random(size).nextBytes(sent);
            for (long declared : new long[] {-1, size}) {
                try (BodySpool.Body body = spool.receive(new ByteArrayInputStream(sent), declared)) {
                    assertThat(body.size()).as("size of a %d-byte body", size).isEqualTo(size);
                    assertThat(64 - spool.freeChunks()).as("chunks held by a %d-byte body", size)
                            .isEqualTo((size + CHUNK - 1) / CHUNK);
                    assertThat(body.stream().readAllBytes()).as("a %d-byte body", size).isEqualTo(sent);
                }
                assertThat(spool.freeChunks()).as("memory given back after a %d-byte body", size).isEqualTo(64);
            }
        }
    }

    @Test
    void whatIsAvailableIsTheWholeRestOfTheBodyNotOnlyOfTheCurrentChunk() throws IOException {
        BodySpool spool = new BodySpool(8L * CHUNK, Duration.ofMillis(100));
        try (BodySpool.Body body = spool.receive(new ByteArrayInputStream(new byte[3 * CHUNK + 5]), -1)) {
            InputStream in = body.stream();
            assertThat(in.readNBytes(CHUNK)).hasSize(CHUNK);
            // a gzip reader asks this at the end of each member to know whether another follows
            assertThat(in.available()).isEqualTo(2 * CHUNK + 5);
            assertThat(in.read()).isZero();
            assertThat(in.available()).isEqualTo(2 * CHUNK + 4);
            assertThat(in.readAllBytes()).hasSize(2 * CHUNK + 4);
            assertThat(in.available()).isZero();
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aBodyWithoutRoomIsRefusedAndGivesBackWhatItTook() throws IOException {
        BodySpool spool = new BodySpool(4L * CHUNK, Duration.ofMillis(50));
        try (BodySpool.Body held = spool.receive(new ByteArrayInputStream(new byte[2 * CHUNK - 1]), -1)) {
            assertThat(spool.freeChunks()).isEqualTo(2);

            assertThatThrownBy(() -> spool.receive(new ByteArrayInputStream(new byte[3 * CHUNK]), -1))
                    .isInstanceOf(BodySpool.SpoolFullException.class);
            assertThat(spool.freeChunks()).as("the refused body's two chunks given back").isEqualTo(2);
            // with its length declared, a body reserves everything at once or nothing
            assertThatThrownBy(() -> spool.receive(new ByteArrayInputStream(new byte[3 * CHUNK]), 3 * CHUNK))
                    .isInstanceOf(BodySpool.SpoolFullException.class);
            assertThat(spool.freeChunks()).isEqualTo(2);
            assertThat(held.stream().readAllBytes()).hasSize(2 * CHUNK - 1);
        }
        assertThat(spool.freeChunks()).isEqualTo(4);
    }

    @Test
    void aBodyOverItsLimitGivesBackWhatItTook() {
        BodySpool spool = new BodySpool(64L * CHUNK, Duration.ofMillis(100));
        LimitedInputStream tooLarge = new LimitedInputStream(new ByteArrayInputStream(new byte[5 * CHUNK]),
                2L * CHUNK, "the body");

        assertThatThrownBy(() -> spool.receive(tooLarge, -1)).isInstanceOf(BodyTooLargeException.class);
        assertThat(spool.freeChunks()).isEqualTo(64);
    }

    @Test
    void anErrorWhileReadingGivesBackWhatWasTaken() {
        BodySpool spool = new BodySpool(64L * CHUNK, Duration.ofMillis(100));
        InputStream failing = new SequenceInputStream(new ByteArrayInputStream(new byte[3 * CHUNK / 2]),
                new InputStream() {
                    @Override
                    public int read() {
                        throw new OutOfMemoryError("thrown by the test");
                    }
                });

        assertThatThrownBy(() -> spool.receive(failing, 4L * CHUNK)).isInstanceOf(OutOfMemoryError.class);
        assertThat(spool.freeChunks()).isEqualTo(64);
    }

    @Test
    void aBudgetBelowTheLargestBodyIsRefusedAtStart() {
        assertThatThrownBy(() -> new BodySpool(DataSize.ofMegabytes(8), Duration.ofSeconds(10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(BodySpool.PROPERTY)
                .hasMessageEndingWith("was 8MB"); // as written: it said 8388608B
        assertThat(BodySpool.written(DataSize.ofKilobytes(1536))).isEqualTo("1536KB");
        assertThatThrownBy(() -> new BodySpool(null, Duration.ofSeconds(10))) // given empty
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(BodySpool.PROPERTY + " is empty");
        assertThat(BodySpool.written(DataSize.ofBytes(1000))).isEqualTo("1000B");
        assertThat(new BodySpool(DataSize.ofMegabytes(16), Duration.ofSeconds(10)).freeChunks()).isEqualTo(256);
    }

    /** Read a byte at a time (as GZIPInputStream reads a header), a body is the bytes sent. */
    @Test
    void aBodyReadByteByByteIsTheBodySent() throws IOException {
        BodySpool spool = new BodySpool(8L * CHUNK, Duration.ofMillis(100));
        byte[] sent = new byte[CHUNK + 3];
        new Random(3).nextBytes(sent);
        try (BodySpool.Body body = spool.receive(new ByteArrayInputStream(sent), -1)) {
            InputStream in = body.stream();
            for (int i = 0; i < sent.length; i++) {
                assertThat(in.read()).as("byte %d", i).isEqualTo(sent[i] & 0xff);
            }
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    /** With its length declared, a body that cannot have all its chunks is refused before a byte of it is read. */
    @Test
    void aDeclaredBodyWithoutRoomIsRefusedBeforeItIsRead() throws IOException {
        BodySpool spool = new BodySpool(4L * CHUNK, Duration.ofMillis(50));
        try (BodySpool.Body held = spool.receive(new ByteArrayInputStream(new byte[2 * CHUNK - 1]), -1)) {
            ByteArrayInputStream refused = new ByteArrayInputStream(new byte[3 * CHUNK]);

            assertThatThrownBy(() -> spool.receive(refused, 3 * CHUNK))
                    .isInstanceOf(BodySpool.SpoolFullException.class);
            assertThat(refused.available()).as("nothing read").isEqualTo(3 * CHUNK);
        }
    }
}
