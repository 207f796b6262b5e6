package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.testsupport.TempDirs;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Runs the README's "A first tour" block with bash, curl and jq, as a reader would paste it, against this test's
 * Keymeter: only {@code KM} is pointed at it, and the token files it reads hold a test account's tokens. What the
 * block prints is checked against what its comments say it prints, so the tour cannot drift from the API.
 */
@KeymeterIntegrationTest
class ReadmeTourTest {

    static final Path README = Path.of("..", "README.md");
    static final String HEADING = "## A first tour";
    /** Set on CI (the parent pom): curl or jq missing then fails the test instead of skipping it. */
    static final String REQUIRED_PROPERTY = "readme.tour.required";
    static final String ACCOUNT = "vandelay";

    @LocalServerPort
    int port;

    @Test
    void theTourRunsAsWrittenAndPrintsWhatItsCommentsSay() throws Exception {
        List<String> missing = Stream.of("bash", "curl", "jq").filter(tool -> !onPath(tool)).toList();
        if (!Boolean.getBoolean(REQUIRED_PROPERTY)) {
            Assumptions.assumeTrue(missing.isEmpty(), "the README tour needs " + missing + " (apt-get install curl jq)");
        }
        assertThat(missing).as("tools the README tour needs").isEmpty();

        String block = tourBlock(Files.readString(README));
        assertThat(block).contains("KM=http://localhost:8080");
        Path dir = TempDirs.create("keymeter-readme-tour");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/demo-token"), TestAccounts.token(ACCOUNT) + "\n");
        Files.writeString(dir.resolve("data/gateway-token"), TestAccounts.GATEWAY_TOKEN + "\n");
        Path script = Files.writeString(dir.resolve("tour.sh"),
                block.replace("KM=http://localhost:8080", "KM=http://localhost:" + port));

        // -e, -u and pipefail: a step whose call fails (a problem where an id or a key was expected) stops the tour
        Process bash = new ProcessBuilder("bash", "-eu", "-o", "pipefail", script.toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        assertThat(bash.waitFor(120, TimeUnit.SECONDS)).as("the tour finished within 2 minutes").isTrue();
        String printed = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(bash.exitValue()).as(printed).isZero();
        assertThat(printed.lines().toList()).as(printed).containsExactly(
                "{\"privilege\":\"premium:user:basemaps\",\"service\":\"basemaps\",\"description\":\"Basemap styles and tiles\"}",
                line(printed, "{\"valid\":true,\"credentialId\":\""),
                "{\"valid\":false,\"reason\":\"referrer-not-permitted\"}",
                "{\"accepted\":1,\"rejected\":[]}",
                line(printed, "{\"service\":\"basemaps\",\"requests\":1,\"units\":3,\"cost\":\""),
                "{\"status\":\"invalidated\",\"invalidationReason\":\"invalidated\"}",
                "{\"valid\":false,\"reason\":\"invalidated\"}");
        assertThat(line(printed, "{\"valid\":true")).contains("\"slot\":1,\"expiresAt\":\"");
    }

    /** The first line printed that starts so, or the prefix itself (then the exact comparison fails, showing all). */
    private static String line(String printed, String prefix) {
        return printed.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse(prefix);
    }

    /** The first bash block after the tour's heading. */
    static String tourBlock(String readme) {
        int heading = readme.indexOf("\n" + HEADING + "\n");
        assertThat(heading).as("README has a section " + HEADING).isNotNegative();
        int start = readme.indexOf("```bash\n", heading) + "```bash\n".length();
        int end = readme.indexOf("\n```", start);
        assertThat(readme.indexOf("\n## ", heading + 1)).as("the block is in the tour's section").isGreaterThan(end);
        return readme.substring(start, end + 1);
    }

    private static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator)).anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    }
}
