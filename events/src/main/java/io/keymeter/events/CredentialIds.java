package io.keymeter.events;

import java.util.regex.Pattern;

/** Credential ids are ours: lower-case UUIDs. Anything else names no credential, and is never echoed back. */
public final class CredentialIds {

    private static final Pattern SHAPE = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private CredentialIds() {
    }

    public static boolean isWellFormed(String id) {
        return id != null && SHAPE.matcher(id).matches();
    }

    /** "credential &lt;id&gt;" for an id of our shape, else "credential with this id": what a 404 may say. */
    public static String describe(String id) {
        return "credential " + (isWellFormed(id) ? id : "with this id");
    }
}
