package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentTypeGuardTest {

    @ParameterizedTest(name = "[{0}]")
    @CsvSource(delimiter = '|', value = {
            "application/json                                  | ",
            "application/x-ndjson; charset=UTF-16              | ",
            "application/json; charset=\"utf-8\"               | ",
            // a ; inside a quoted value does not end the parameter, nor does an escaped quote end the string
            "application/json; note=\"a;charset=x\"; charset=utf-8 | ",
            "application/json; note=\"a\\\";charset=x\"; charset=utf-8 | ",
            "application/json; charset=utf-8; CHARSET=utf-16   | its parameter 'charset' more than once",
            "application/json; q=1; q=2                        | its parameter 'q' more than once",
            "application/json; charset=no-such                 | the charset 'no-such', which this server does not know",
            "application/json; charset=\"\"                    | the charset '', which this server does not know",
            "'application/*'                                   | one concrete media type",
            "'*/*'                                             | one concrete media type",
            "json                                              | one concrete media type",
            "'  '                                              | one concrete media type",
    })
    void refusesWhatCannotBeReadSayingWhy(String header, String refusal) {
        if (refusal == null) {
            assertThat(ContentTypeGuard.refusal(header)).isEmpty();
        } else {
            assertThat(ContentTypeGuard.refusal(header)).hasValueSatisfying(r -> assertThat(r).contains(refusal));
        }
    }

    @Test
    void readsParametersKeepingTheFirstOfANameAndNamingTheFirstRepeated() {
        ContentTypeGuard.Parameters parameters = ContentTypeGuard.Parameters.of(
                "application/json; Charset=\"utf-8\"; note=\"a;b\"; charset=utf-16; flag; flag; note=c");

        assertThat(parameters.values()).isEqualTo(Map.of("charset", "utf-8", "note", "a;b", "flag", ""));
        assertThat(parameters.repeated()).hasValue("charset");
        assertThat(ContentTypeGuard.Parameters.of("application/json").values()).isEmpty();
        assertThat(ContentTypeGuard.Parameters.of("application/json; charset=utf-8").repeated()).isEmpty();
    }
}
