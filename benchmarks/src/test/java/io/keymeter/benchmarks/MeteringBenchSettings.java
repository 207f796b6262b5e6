package io.keymeter.benchmarks;

import io.keymeter.metering.MeteringSettings;
import io.keymeter.platform.config.KeymeterProperties;
import java.time.Duration;

/**
 * The metering settings a benchmark runs with: the app's, except that {@code -Dbench.dedupe-window=PT10M} shortens
 * the dedupe window, so that a run crosses many generations and the sweeper deletes as it goes (the steady state of an
 * instance that has run longer than two windows; with the default day nothing expires within one run).
 */
final class MeteringBenchSettings {

    private MeteringBenchSettings() {
    }

    static MeteringSettings of(KeymeterProperties properties, Duration joinGrace) {
        MeteringSettings settings = MeteringSettings.of(properties, joinGrace);
        String window = System.getProperty("bench.dedupe-window");
        return window == null ? settings : new MeteringSettings(Duration.parse(window), settings.historyRetention(),
                settings.joinGrace(), settings.alertInterval(), settings.dedupeFilterCapacity());
    }
}
