package io.keymeter.ingest.publish;

/** Kafka could not take a batch in time; nothing of it is visible to {@code read_committed} readers. */
public class PublishUnavailableException extends RuntimeException {

    public PublishUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
