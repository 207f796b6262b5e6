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
    }

    @Test
    void everyTokenMustDifferAcrossAccountsAndGateways() {
        assertThat(bind(Map.of("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token", "a",
                "keymeter.accounts[1].id", "globex", "keymeter.accounts[1].token", "b",
                "keymeter.gateway-tokens[0]", "g")).isEveryTokenDistinct()).isTrue();
        assertThat(bind(Map.of("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token", "same",
                "keymeter.accounts[1].id", "globex", "keymeter.accounts[1].token", "same")).isEveryTokenDistinct())
                .as("two accounts").isFalse();
        assertThat(bind(Map.of("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token", "same",
                "keymeter.gateway-tokens[0]", "same")).isEveryTokenDistinct()).as("an account and a gateway").isFalse();
        assertThat(bind(Map.of()).isEveryTokenDistinct()).as("none configured").isTrue();
    }
}
