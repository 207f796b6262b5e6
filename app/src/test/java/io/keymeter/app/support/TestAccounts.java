package io.keymeter.app.support;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Accounts of the shared integration-test context. Each test class uses its own account(s), so classes sharing the
 * context never see each other's credentials or usage.
 */
public final class TestAccounts {

    public static final String GATEWAY_TOKEN = "test-gateway-token";

    /** account id → bearer token. */
    public static final Map<String, String> ALL;

    static {
        Map<String, String> accounts = new LinkedHashMap<>();
        for (String id : new String[] {"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell",
                "cyberdyne", "soylent", "wonka", "oscorp", "nakatomi", "weyland", "spacely", "vandelay"}) {
            accounts.put(id, "token-" + id);
        }
        ALL = Map.copyOf(accounts);
    }

    private TestAccounts() {
    }

    public static String token(String accountId) {
        String token = ALL.get(accountId);
        if (token == null) {
            throw new IllegalArgumentException("no test account " + accountId);
        }
        return token;
    }
}
