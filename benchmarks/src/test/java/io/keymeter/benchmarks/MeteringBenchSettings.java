package io.keymeter.benchmarks;

import io.keymeter.platform.config.KeymeterProperties;
import java.time.Duration;

/**
 * The metering configuration a benchmark runs with: the app's defaults, except that
 * {@code -Dbench.dedupe-window=PT10M} shortens the dedupe window, so that a run crosses many generations and the
 * sweeper deletes as it goes (the steady state of an instance that has run longer than two windows; with the default
 * day nothing expires within one run). It goes into the benchmark's {@link KeymeterProperties}, so the topology's
 * settings come from {@code MeteringSettings.of} as in the app.
 */
final class MeteringBenchSettings {

    private MeteringBenchSettings() {
    }

    static KeymeterProperties.Metering metering() {
        String window = System.getProperty("bench.dedupe-window");
        return new KeymeterProperties.Metering(window == null ? null : Duration.parse(window), null);
    }
}
