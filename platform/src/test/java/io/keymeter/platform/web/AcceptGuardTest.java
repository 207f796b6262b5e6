package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which Accept headers a changing call may run under: those Spring can write its JSON answer for. */
class AcceptGuardTest {

    @Test
    void whatClientsSendByDefaultIsAllowed() {
        for (String accept : List.of("*/*", "application/*", "application/json", "application/json, text/plain, */*",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/csv, */*;q=0.1",
                "application/json; charset=UTF-8", "application/json, application/problem+json",
                "application/json; charset=UTF-16LE", "application/json; charset=utf-32be", "application/json; charset=us-ascii")) {
            assertThat(AcceptGuard.allowsJson(List.of(accept))).as(accept).isTrue();
        }
    }

    /** An empty header, and +json types Spring's JSON converter writes, were refused by the first version. */
    @Test
    void anEmptyHeaderAndJsonSuffixedTypesAreAllowed() {
        assertThat(AcceptGuard.allowsJson(List.of(""))).isTrue();
        assertThat(AcceptGuard.allowsJson(List.of("application/problem+json"))).isTrue();
        assertThat(AcceptGuard.allowsJson(List.of("application/vnd.api+json"))).isTrue();
    }

    @Test
    void headersThatAllowNoJsonAnswerAreRefused() {
        for (String accept : List.of("text/csv", "application/xml", "application/json; charset=iso-8859-1",
                "application/json;q=0", "not a type", "application/yaml",
                // Jackson writes UTF-16 and UTF-32 only with a byte order named: Spring answered these 406 after the change
                "application/json; charset=UTF-16", "application/json; charset=UTF-32")) {
            assertThat(AcceptGuard.allowsJson(List.of(accept))).as(accept).isFalse();
        }
    }
}
