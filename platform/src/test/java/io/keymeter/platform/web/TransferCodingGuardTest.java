package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TransferCodingGuardTest {

    @Test
    void onlyChunkedPasses() {
        assertThat(TransferCodingGuard.otherThanChunked(List.of())).isEmpty();
        assertThat(TransferCodingGuard.otherThanChunked(List.of("chunked"))).isEmpty();
        assertThat(TransferCodingGuard.otherThanChunked(List.of(" Chunked "))).isEmpty();
        assertThat(TransferCodingGuard.otherThanChunked(List.of("gzip, chunked"))).hasValue("gzip");
        assertThat(TransferCodingGuard.otherThanChunked(List.of("chunked", "x-compress"))).hasValue("x-compress");
        assertThat(TransferCodingGuard.otherThanChunked(List.of("identity,chunked"))).hasValue("identity");
    }
}
