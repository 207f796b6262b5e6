package io.keymeter.platform.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * Files and directories only their owner may use: what holds tokens, the broker's password, or every tenant's data.
 * Created so from the start (made so afterwards, another user could read them in between); on a file system without
 * POSIX permissions, as the file system makes them.
 */
public final class OwnerOnly {

    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private OwnerOnly() {
    }

    public static void createFile(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file); // not a POSIX file system
        }
    }

    public static void createDirectories(Path dir) throws IOException {
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system
        }
    }

    /**
     * Makes an existing file owner-only; returns the permissions it had when they were wider, for the caller's
     * warning, and nothing when it was owner-only already or the file system has no POSIX permissions.
     */
    public static Optional<String> restrictFile(Path file) throws IOException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return Optional.empty(); // not a POSIX file system
        }
        if (FILE.containsAll(permissions)) {
            return Optional.empty();
        }
        Files.setPosixFilePermissions(file, FILE);
        return Optional.of(PosixFilePermissions.toString(permissions));
    }
}
