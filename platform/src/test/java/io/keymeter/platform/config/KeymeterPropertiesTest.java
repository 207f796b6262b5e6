package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.util.unit.DataSize;

/** How the configuration binds, as Spring Boot binds it at start-up. */
class KeymeterPropertiesTest {

    private static KeymeterProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("keymeter", KeymeterProperties.class);
    }

    @Test
    void rocksDbMemoryTakesSizesAndPlainBytes() {
        KeymeterProperties sized = bind(Map.of("keymeter.streams.rocksdb-cache", "128MB",
                "keymeter.streams.rocksdb-write-buffers", "48MB"));
        assertThat(sized.streams().rocksdbCache()).isEqualTo(DataSize.ofMegabytes(128));
        assertThat(sized.streams().rocksdbWriteBuffers()).isEqualTo(DataSize.ofMegabytes(48));

        KeymeterProperties bytes = bind(Map.of("keymeter.streams.rocksdb-cache", "134217728"));
        assertThat(bytes.streams().rocksdbCache()).isEqualTo(DataSize.ofMegabytes(128));

        KeymeterProperties defaults = bind(Map.of());
        assertThat(defaults.streams().rocksdbCache()).isEqualTo(DataSize.ofMegabytes(64));
        assertThat(defaults.streams().rocksdbWriteBuffers()).isEqualTo(DataSize.ofMegabytes(32));
        assertThat(defaults.streams().isRocksdbMemoryValid()).isTrue();
        assertThat(bind(Map.of("keymeter.streams.rocksdb-cache", "512KB")).streams().isRocksdbMemoryValid()).isFalse();
        // write buffers must stay below the cache they are charged against; a cache lowered alone halves them
        assertThat(bind(Map.of("keymeter.streams.rocksdb-cache", "16MB", "keymeter.streams.rocksdb-write-buffers", "64MB"))
                .streams().isRocksdbMemoryValid()).isFalse();
        KeymeterProperties small = bind(Map.of("keymeter.streams.rocksdb-cache", "16MB"));
        assertThat(small.streams().rocksdbWriteBuffers()).isEqualTo(DataSize.ofMegabytes(8));
        assertThat(small.streams().isRocksdbMemoryValid()).isTrue();
    }

    /** Account tokens were hidden in the properties' text, gateway tokens were not. */
    @Test
    void noTokenIsInThePropertiesText() {
        String text = bind(Map.of("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token", "acct-secret",
                "keymeter.gateway-tokens[0]", "gateway-secret")).toString();
        assertThat(text).contains("acme", "gatewayTokens=1 hidden").doesNotContain("acct-secret", "gateway-secret");
    }
}
