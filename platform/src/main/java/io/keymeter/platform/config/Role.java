package io.keymeter.platform.config;

import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The roles one Keymeter process can run ({@code keymeter.roles}). */
public enum Role {
    CREDENTIAL_STORE, INGEST, METERING, BILLING_REPORT, CONSOLE;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The roles named by a {@code keymeter.roles} value; {@code all} means every role. */
    public static Set<Role> parse(Collection<String> names) {
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        for (String raw : names) {
            String name = raw.trim();
            if (name.equals("all")) {
                return EnumSet.allOf(Role.class);
            }
            roles.add(Arrays.stream(values()).filter(r -> r.id().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("keymeter.roles: unknown role '" + name + "'")));
        }
        return roles;
    }
}
