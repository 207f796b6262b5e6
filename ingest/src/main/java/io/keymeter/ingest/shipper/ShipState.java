package io.keymeter.ingest.shipper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;

/**
 * How far the shipper got in each file: the byte offset just after the last acknowledged batch, and how many lines
 * lie before it (so rejected lines can be reported by their line in the file). Saved after every acknowledged batch,
 * by writing a temporary file and moving it over the old one, so a kill leaves the old or the new state, never half.
 * <p>
 * With them, a fingerprint of the file's first bytes (up to {@link #HEAD_BYTES}, never past the offset): a log rotated
 * away and replaced by a new file under the same name is told apart from the file that grew, and sent from its start.
 * (Judged by size alone, a new file already longer than the saved offset had that many bytes skipped.) And, when the
 * last line sent had no newline, where that line starts ({@link #unterminatedLine}).
 */
final class ShipState {

    /** Bytes of a file's start that identify it. */
    static final int HEAD_BYTES = 4096;

    private final Path file;
    private final Properties entries = new Properties();

    private ShipState(Path file) {
        this.file = file;
    }

    static ShipState load(Path file) throws IOException {
        ShipState state = new ShipState(file);
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                state.entries.load(in);
            }
        }
        return state;
    }

    /** The position of a file: where to resume. */
    Position position(Path source) {
        String value = entries.getProperty(key(source));
        if (value == null) {
            return Position.START;
        }
        String[] parts = value.split(" ");
        return new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }

    /**
     * False when the file's first bytes differ from those seen when its position was saved: another file now has
     * its name. True for a file without a saved fingerprint (none yet, or a state written before they were kept).
     */
    boolean sameFile(Path source) throws IOException {
        String[] parts = parts(source);
        if (parts.length < 4) {
            return true;
        }
        byte[] now;
        try (InputStream in = Files.newInputStream(source)) {
            now = in.readNBytes(Integer.parseInt(parts[2]));
        }
        return sha256(now, now.length).equals(parts[3]);
    }

    /**
     * Where the last line sent starts, when it had no newline yet (the saved position is after it): the next run
     * looks at the byte after it to tell a complete line from one cut short. Empty otherwise.
     */
    Optional<Position> unterminatedLine(Path source) {
        String[] parts = parts(source);
        return parts.length < 6 ? Optional.empty()
                : Optional.of(new Position(Long.parseLong(parts[4]), Long.parseLong(parts[5])));
    }

    /**
     * @param head               the file's first bytes as read through the channel the lines were read from (not by
     *                           name: a file rotated during the run has another file under the name)
     * @param unterminatedLine   where the last line sent starts when it had no newline, or null
     */
    void save(Path source, Position position, byte[] head, Position unterminatedLine) throws IOException {
        int headBytes = (int) Math.min(position.offset(), head.length);
        entries.setProperty(key(source), position.offset() + " " + position.lines() + " " + headBytes + " "
                + sha256(head, headBytes) + (unterminatedLine == null ? ""
                : " " + unterminatedLine.offset() + " " + unterminatedLine.lines()));
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, ".ship-state", ".tmp");
        try (OutputStream out = Files.newOutputStream(temp)) {
            entries.store(out, "keymeter ship: byte offset and line count of the last acknowledged batch per file");
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private String[] parts(Path source) {
        String value = entries.getProperty(key(source));
        return value == null ? new String[0] : value.split(" ");
    }

    private static String sha256(byte[] bytes, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, 0, length);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String key(Path source) {
        return source.toAbsolutePath().normalize().toString();
    }

    /** A place in a file: byte offset, and the number of lines before it. */
    record Position(long offset, long lines) {
        static final Position START = new Position(0, 0);
    }
}
