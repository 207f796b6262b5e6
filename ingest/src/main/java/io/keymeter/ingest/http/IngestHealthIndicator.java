package io.keymeter.ingest.http;

import io.keymeter.platform.health.ReasonedHealthIndicator;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * {@code ingest}: DOWN, with the figures, while {@code POST /v1/requests} refuses every batch because the data
 * directory's disk is nearly full ({@link DiskReserve}); UP otherwise. Not in the readiness group: verify and
 * credential changes on the same instance still serve.
 */
@Component("ingest")
class IngestHealthIndicator extends ReasonedHealthIndicator {

    private final DiskReserve reserve;

    IngestHealthIndicator(DiskReserve reserve) {
        this.reserve = reserve;
    }

    @Override
    protected Optional<String> downBecause() {
        return reserve.shortBecause();
    }
}
