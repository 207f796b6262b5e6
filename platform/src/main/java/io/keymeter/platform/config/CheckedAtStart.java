package io.keymeter.platform.config;

/**
 * A bean that checks settings as it is made and needs nothing of Kafka to be made. {@link StartupChecks} makes every
 * one before the data directory is taken and the embedded broker starts, so a setting it refuses stops start-up at
 * once: {@code keymeter.metering.join-grace} and {@code keymeter.ingest.body-memory} were refused only after the
 * broker was up, 20 to 37 s in on a loaded machine.
 */
public interface CheckedAtStart {
}
