package io.keymeter.metering.verify;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import io.keymeter.events.ApiKeyState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes the verify cache's key states share what many keys hold equal: the account id, the privilege names and
 * whole privilege lists. Each state read from the topic arrives with its own copies (about 270 of the ~750 heap
 * bytes a key took at 1M keys were repeated privilege strings and lists). Privileges come from the catalog and
 * accounts from the configuration, so the distinct values are few; each table is still capped, and past the cap a
 * value is simply kept as it came. Item-access and referrer lists are shared too, by a weak interner (as many
 * distinct lists as credentials, so no cap; one is dropped with the last key holding it): a credential's two keys
 * held a copy each, some 120 KB a key at the limit of 1,000 item ids.
 */
final class KeyStateInterner {

    static final int MAX_ENTRIES = 10_000;

    private final Map<String, String> strings = new ConcurrentHashMap<>();
    private final Map<List<String>, List<String>> lists = new ConcurrentHashMap<>();
    private final Interner<List<String>> accessLists = Interners.newWeakInterner();

    ApiKeyState intern(ApiKeyState state) {
        return new ApiKeyState(state.keyId(), state.credentialId(), string(state.accountId()), state.slot(),
                state.status(), state.expiresAt(), state.secretHash(), privileges(state.privileges()),
                shared(state.itemAccess()), shared(state.referrers()), state.updatedAt());
    }

    /** How many distinct strings and lists are held. */
    int held() {
        return strings.size() + lists.size();
    }

    private List<String> privileges(List<String> privileges) {
        List<String> held = lists.get(privileges);
        if (held != null) {
            return held;
        }
        List<String> shared = List.copyOf(privileges.stream().map(this::string).toList());
        return lists.size() < MAX_ENTRIES ? lists.computeIfAbsent(shared, k -> shared) : shared;
    }

    private List<String> shared(List<String> list) {
        return list.isEmpty() ? list : accessLists.intern(list); // immutable already: the record copied it
    }

    private String string(String value) {
        if (value == null) {
            return null;
        }
        String held = strings.get(value);
        if (held != null) {
            return held;
        }
        return strings.size() < MAX_ENTRIES ? strings.computeIfAbsent(value, k -> value) : value;
    }
}
