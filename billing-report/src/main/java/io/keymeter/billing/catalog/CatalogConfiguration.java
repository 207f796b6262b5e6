package io.keymeter.billing.catalog;

import io.keymeter.platform.config.KeymeterProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Binds {@code keymeter.catalog.*} and builds the one {@link PriceCatalog}, in {@code keymeter.billing.currency}. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(CatalogProperties.class)
class CatalogConfiguration {

    @Bean
    PriceCatalog priceCatalog(CatalogProperties catalog, KeymeterProperties properties) {
        return catalog.toCatalog(properties.billing().currency());
    }
}
