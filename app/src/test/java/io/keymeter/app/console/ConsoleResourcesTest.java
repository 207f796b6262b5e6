package io.keymeter.app.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/** What the console role serves, and that serving it leaves the API, the actuator and unknown paths alone. */
@KeymeterIntegrationTest
class ConsoleResourcesTest {

    @Autowired
    TestRestTemplate rest;

    @Test
    void rootServesTheConsolePageWithBrowserHardening() {
        ResponseEntity<String> page = rest.getForEntity("/", String.class);

        assertThat(page.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(page.getHeaders().getContentType().isCompatibleWith(MediaType.TEXT_HTML)).isTrue();
        assertThat(page.getBody()).contains("<script type=\"module\" src=\"js/app.js\"></script>")
                .contains("webjars/chart.js/dist/chart.umd.min.js")
                .doesNotContain("https://");
        assertThat(page.getHeaders().getFirst("Content-Security-Policy"))
                .contains("script-src 'self'").contains("frame-ancestors 'none'");
        assertThat(page.getHeaders().getFirst("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(page.getHeaders().getCacheControl()).isEqualTo("no-cache");
    }

    @Test
    void servesTheModulesStylesAndTheChartLibraryFromTheJar() {
        ResponseEntity<String> app = rest.getForEntity("/js/app.js", String.class);
        assertThat(app.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(app.getHeaders().getContentType().toString()).contains("javascript");
        assertThat(app.getBody()).contains("import ");

        ResponseEntity<String> css = rest.getForEntity("/css/console.css", String.class);
        assertThat(css.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(css.getHeaders().getContentType().toString()).contains("text/css");

        // version-less WebJar path, resolved by webjars-locator-lite
        ResponseEntity<String> chart = rest.getForEntity("/webjars/chart.js/dist/chart.umd.min.js", String.class);
        assertThat(chart.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(chart.getBody()).contains("Chart.js v4");
    }

    @Test
    void theApiAndTheActuatorStillReachTheirHandlers() {
        ResponseEntity<String> api = rest.getForEntity("/v1/credentials", String.class);
        assertThat(api.getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(api.getHeaders().getContentType().toString()).contains("application/problem+json");
        assertThat(api.getHeaders().getFirst("Content-Security-Policy")).isNull();

        ResponseEntity<String> health = rest.getForEntity("/actuator/health", String.class);
        assertThat(health.getStatusCode().value()).isIn(200, 503);
        assertThat(health.getBody()).contains("\"status\"");
    }

    @Test
    void anUnknownApiCallIsStillANotFound() {
        HttpHeaders headers = new HttpHeaders();
        headers.setBearerAuth(TestAccounts.token("wonka"));
        headers.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> answer = rest.exchange("/v1/no-such-call", HttpMethod.POST,
                new HttpEntity<>("{}", headers), String.class);
        assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
    }

    @Test
    void anUnknownPathIsANotFoundNotAServerError() {
        assertThat(rest.getForEntity("/no-such-page.html", String.class).getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(rest.getForEntity("/../application.yml", String.class).getStatusCode().is2xxSuccessful()).isFalse();
        assertThat(rest.getForEntity("/js/../../application.yml", String.class).getStatusCode().is2xxSuccessful()).isFalse();
    }
}
