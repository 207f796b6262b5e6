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
        // this JVM's slice below the ephemeral range; null on a machine whose range starts low, which gets the
        // kernel's choice instead: then only distinct
        int[] range = FreePorts.range(System.getProperty(FreePorts.SLICE_PROPERTY), FreePorts.ephemeralStart());
        for (int i = 0; i < 300; i++) {
            int port = FreePorts.next();
            assertThat(ports.add(port)).as("port %d handed out twice", port).isTrue();
            if (range != null) {
                assertThat(port).isBetween(range[0], range[1]);
            }
        }
    }

    @Test
    void underSurefireEachForkIsGivenItsSlice() {
        // the parent pom passes it; a value starting with surefire's placeholder arrives empty (SUREFIRE-1068)
        assumeTrue(System.getProperty("surefire.real.class.path") != null, "not run by surefire");
        String slice = System.getProperty(FreePorts.SLICE_PROPERTY);
        assertThat(slice).matches("0[1-9][0-9]*/[1-9][0-9]*");
        String[] parts = slice.split("/");
        assertThat(Integer.parseInt(parts[0])).as("fork within the forks").isLessThanOrEqualTo(Integer.parseInt(parts[1]));
    }

    @Test
    void eachSliceIsItsOwnPartOfTheRangeAndAnythingElseTakesItWhole() {
        assertThat(FreePorts.range("01/4", 32_768)).containsExactly(10_000, 15_691);
        assertThat(FreePorts.range("2/4", 32_768)).containsExactly(15_692, 21_383);
        assertThat(FreePorts.range("4/4", 32_768)).as("the last takes the remainder").containsExactly(27_076, 32_767);
        assertThat(FreePorts.range("01/2", 32_768)).as("as the pom passes it").containsExactly(10_000, 21_383);
        assertThat(FreePorts.range("02/2", 32_768)).containsExactly(21_384, 32_767);
        assertThat(FreePorts.range("01/1", 32_768)).containsExactly(10_000, 32_767);
        for (String whole : new String[] {null, "", "1", "0/2", "3/2", "1/0", "1/500", "x/2", "0${surefire.forkNumber}/2"}) {
            assertThat(FreePorts.range(whole, 32_768)).as(String.valueOf(whole)).containsExactly(10_000, 32_767);
        }
        assertThat(FreePorts.range("1/2", 10_500)).as("too small a range to share").isNull();
    }
}
