package io.keymeter.platform;

import org.springframework.boot.web.server.context.WebServerApplicationContext;

/** Where Keymeter's own lifecycles sit among Spring Boot's: stopping runs from the highest phase down. */
public final class LifecyclePhases {

    /**
     * Kafka Streams applications and the verify cache: started after the web server (its port is known), stopped
     * after the graceful shutdown has drained the calls in flight and before the server stops. Above the drain they
     * stopped first, so a credential change taken during the drain waited for a reply no topology could send, and
     * verify answered from a reader that had stopped.
     */
    public static final int BEHIND_WEB_SERVER = WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE - 512;

    private LifecyclePhases() {
    }
}
