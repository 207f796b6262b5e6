package io.keymeter.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void portsAreBelowTheEphemeralRangeAndNeverHandedOutTwice() {
        Set<Integer> ports = new HashSet<>();
        // a machine whose ephemeral range starts low gets the kernel's choice instead: then only distinct
        boolean belowRange = FreePorts.ephemeralStart() - 1 - FreePorts.LOWEST >= 1_000;
        for (int i = 0; i < 300; i++) {
            int port = FreePorts.next();
            assertThat(ports.add(port)).as("port %d handed out twice", port).isTrue();
            if (belowRange) {
                assertThat(port).isBetween(FreePorts.LOWEST, FreePorts.ephemeralStart() - 1);
            }
        }
    }
}
