package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The data dir holds every tenant's data: only its owner may enter it. */
@ExtendWith(OutputCaptureExtension.class)
class DataDirLockTest {

    @TempDir
    Path dir;

    @Test
    void aNewDataDirIsOwnerOnly(CapturedOutput output) throws Exception {
        Path data = dir.resolve("new/data");

        new DataDirLock(properties(data, "ingest")).destroy();

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
        assertThat(output.getOut() + output.getErr()).as("created so, not changed").doesNotContain("made owner-only");
    }

    /** The embedded broker's logs and the state stores were readable by every user of the machine. */
    @Test
    void aDataDirOthersMayEnterIsMadeOwnerOnly() throws Exception {
        Path data = Files.createDirectory(dir.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));

        DataDirLock lock = new DataDirLock(properties(data, "all"));
        try {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
        } finally {
            lock.destroy();
        }
    }

    private static KeymeterProperties properties(Path data, String roles) {
        return new Binder(new MapConfigurationPropertySource(Map.of("keymeter.data-dir", data.toString(),
                "keymeter.roles", roles))).bindOrCreate("keymeter", KeymeterProperties.class);
    }
}
