package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** Why a key was refused; shared by {@code /v1/verify}, metering and {@code keymeter.rejections}. */
public enum RejectionReason {
    MALFORMED_KEY, UNKNOWN_KEY, INVALIDATED, EXPIRED, SERVICE_NOT_PERMITTED, ITEM_NOT_PERMITTED, REFERRER_NOT_PERMITTED;

    @JsonValue
    public String code() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static RejectionReason fromCode(String code) {
        return Arrays.stream(values()).filter(r -> r.code().equals(code)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown reason " + code));
    }
}
