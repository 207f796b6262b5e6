package io.keymeter.testsupport;

import io.keymeter.events.Json;

/** Reading Keymeter's {@code /actuator/health} answer in tests and benchmarks. */
public final class Health {

    private Health() {
    }

    /**
     * The overall status of a health body. Health shows its details, so the body contains {@code "status":"UP"}
     * (kafka, diskSpace) as soon as HTTP answers, while {@code streams} is still DOWN: only the top level counts.
     */
    public static String overallStatus(String body) {
        return Json.mapper().readTree(body).path("status").asString();
    }

    /** Whether the overall status of a health body is UP. */
    public static boolean isUp(String body) {
        return "UP".equals(overallStatus(body));
    }
}
