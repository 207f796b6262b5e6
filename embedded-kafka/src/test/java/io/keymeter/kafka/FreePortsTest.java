package io.keymeter.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
                int[] range = FreePorts.range(System.getProperty(FreePorts.SLICE_PROPERTY), FreePorts.ephemeralStart());
                assertThat(port).isBetween(range[0], range[1]);
            }
        }
    }

    @Test
    void underSurefireEachForkIsGivenItsSlice() {
        // the parent pom passes it; a value of surefire's placeholder alone arrives empty (SUREFIRE-1068)
        assumeTrue(System.getProperty("surefire.real.class.path") != null, "not run by surefire");
        assertThat(System.getProperty(FreePorts.SLICE_PROPERTY)).matches("0[1-4]");
    }

    @Test
    void eachSliceIsItsOwnQuarterOfTheRangeAndAnythingElseTakesItWhole() {
        assertThat(FreePorts.range("1", 32_768)).containsExactly(10_000, 15_691);
        assertThat(FreePorts.range("02", 32_768)).as("as the pom passes it").containsExactly(15_692, 21_383);
        assertThat(FreePorts.range("4", 32_768)).as("the last takes the remainder").containsExactly(27_076, 32_767);
        for (String whole : new String[] {null, "", "0", "00", "5", "12", "1x", "0${surefire.forkNumber}"}) {
            assertThat(FreePorts.range(whole, 32_768)).as(String.valueOf(whole)).containsExactly(10_000, 32_767);
        }
        assertThat(FreePorts.range("1", 10_500)).as("too small a range to share").isNull();
    }
}
