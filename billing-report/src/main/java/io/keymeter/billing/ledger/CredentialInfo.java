package io.keymeter.billing.ledger;

import java.time.Instant;

/** A credential's name as billing shows it; a deleted credential keeps its name in the reports of cycles it used. */
public record CredentialInfo(String name, Instant createdAt, Instant deletedAt) {
}
