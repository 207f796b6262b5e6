package io.keymeter.billing.catalog;

import java.math.BigDecimal;

/** The price of one service: list price per 1,000 units and the monthly free units of an account. */
public record ServicePrice(String service, String privilege, String unit, BigDecimal pricePer1000, long freeUnits) {
}
