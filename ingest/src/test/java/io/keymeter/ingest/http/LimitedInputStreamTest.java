package io.keymeter.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class LimitedInputStreamTest {

    private static final int MIB = 1024 * 1024;

    @Test
    void aStreamOfExactlyTheLimitIsReadWhole() throws IOException {
        byte[] sent = new byte[2 * MIB];
        sent[0] = 7;
        LimitedInputStream in = new LimitedInputStream(new ByteArrayInputStream(sent), 2 * MIB, "the body");

        assertThat(in.readAllBytes()).isEqualTo(sent);
        assertThat(in.count()).isEqualTo(2L * MIB);
    }

    @Test
    void oneByteOverTheLimitIsRefusedNamingTheLimit() {
        LimitedInputStream in = new LimitedInputStream(new ByteArrayInputStream(new byte[2 * MIB + 1]), 2 * MIB,
                "the decompressed body");

        assertThatThrownBy(in::readAllBytes).isInstanceOf(BodyTooLargeException.class)
                .hasMessage("the decompressed body is larger than 2 MiB");
    }

    @Test
    void bytesReadOneAtATimeAreCountedAndGivenBack() throws IOException {
        LimitedInputStream in = new LimitedInputStream(new ByteArrayInputStream(new byte[] {0, 6}), 1, "the body");

        assertThat(in.read()).isEqualTo(0);
        assertThat(in.count()).isEqualTo(1);
        assertThatThrownBy(in::read).isInstanceOf(BodyTooLargeException.class);
    }

    @Test
    void theEndOfTheStreamCountsNothing() throws IOException {
        LimitedInputStream in = new LimitedInputStream(new ByteArrayInputStream(new byte[0]), 0, "the body");

        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.read(new byte[4], 0, 4)).isEqualTo(-1);
        assertThat(in.count()).isZero();
    }

    @Test
    void skippedBytesCountToo() throws IOException {
        LimitedInputStream in = new LimitedInputStream(new ByteArrayInputStream(new byte[10]), 8, "the body");

        assertThat(in.skip(8)).isEqualTo(8);
        assertThat(in.count()).isEqualTo(8);
        assertThatThrownBy(() -> in.skip(1)).isInstanceOf(BodyTooLargeException.class);
    }
}
