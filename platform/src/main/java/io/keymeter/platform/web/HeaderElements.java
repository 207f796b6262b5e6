package io.keymeter.platform.web;

import java.util.Arrays;
import java.util.List;

/**
 * The elements of a comma-separated header (RFC 9110 §5.6.1) over every header of that name, trimmed, empty ones
 * dropped: a second header line must be read like the first (a second {@code Content-Encoding}, {@code identity}
 * then {@code gzip}, was not, and the gzip bytes were parsed as lines).
 */
public final class HeaderElements {

    private HeaderElements() {
    }

    public static List<String> of(List<String> headers) {
        return headers.stream().flatMap(h -> Arrays.stream(h.split(","))).map(String::trim)
                .filter(element -> !element.isEmpty()).toList();
    }
}
