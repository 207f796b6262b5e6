package io.keymeter.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

@ExtendWith(OutputCaptureExtension.class)
class StartupReportTest {

    private final StartupReport report = new StartupReport(null, null, null, null);

    /** "Is up" was said when Spring Boot was ready, 5–11 s before health: readiness is said when health is UP. */
    @Test
    void saysItIsReadyOnlyOnceHealthIsUp(CapturedOutput output) {
        AtomicInteger polls = new AtomicInteger();

        report.reportWhenUp(() -> {
            assertThat(output.getOut()).doesNotContain("Keymeter is ready");
            return polls.incrementAndGet() < 3 ? Status.DOWN : Status.UP;
        });

        assertThat(polls).hasValue(3);
        assertThat(output.getOut()).contains("Keymeter is ready: health is UP");
    }

    @Test
    void givesUpWhenTheApplicationClosesFirst(CapturedOutput output) {
        report.onClose(null);

        report.reportWhenUp(() -> Status.UP);

        assertThat(output.getOut()).doesNotContain("Keymeter is ready");
    }
}
