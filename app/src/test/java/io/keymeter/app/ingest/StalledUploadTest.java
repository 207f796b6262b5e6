package io.keymeter.app.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.testsupport.TempDirs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A gateway whose upload stalls past the server's idle timeout (its network, its process paused) sent less than it
 * declared: a client's fault, answered as one. It was a 500 with a stack trace logged at ERROR, as if Keymeter failed.
 */
@ExtendWith(OutputCaptureExtension.class)
class StalledUploadTest {

    @Test
    @Timeout(120)
    void anUploadStalledPastTheIdleTimeoutIsTheClientsFault(CapturedOutput output) throws Exception {
        try (ConfigurableApplicationContext ingest = new SpringApplicationBuilder(KeymeterApplication.class).run(
                // on a broker of its own: on the shared one its credential store joined the shared app's group,
                // moving partitions of the credential store other tests use away and back
                "--keymeter.embedded-kafka.port=0",
                "--keymeter.data-dir=" + TempDirs.create("keymeter-stalled"),
                "--keymeter.roles=ingest,credential-store",
                "--keymeter.gateway-tokens[0]=gateway-stalled",
                "--keymeter.accounts[0].id=stalled",
                "--keymeter.accounts[0].token=token-stalled",
                "--server.jetty.connection-idle-timeout=1s",
                "--server.port=0")) {
            int port = ingest.getEnvironment().getProperty("local.server.port", Integer.class);
            // a batch ingest reads itself, and a JSON body Spring reads for the controller (it was "not valid JSON")
            for (String[] call : new String[][] {
                    {"/v1/requests", "gateway-stalled", "application/x-ndjson", "{\"requestId\":"},
                    {"/v1/credentials", "token-stalled", "application/json", "{\"name\":"}}) {
                String answer = stalledPost(port, call[0], call[1], call[2], call[3]);
                assertThat(answer).as(call[0]).startsWith("HTTP/1.1 408 ").contains("application/problem+json")
                        .contains("body: stopped arriving");
            }
            assertThat(output.getOut() + output.getErr()).doesNotContain(" ERROR ");
        }
    }

    /** The headers and the start of a body declared much longer, then nothing: the answer as it came. */
    private static String stalledPost(int port, String path, String token, String type, String start) throws Exception {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n"
                    + "Content-Type: " + type + "\r\nContent-Length: 10000\r\n\r\n" + start)
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush(); // and nothing more: the rest never comes
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder answer = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                answer.append(line).append('\n');
            }
            return answer.toString();
        }
    }
}
