package io.keymeter.ingest.shipper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * How far the shipper got in each file: the byte offset just after the last acknowledged batch, and how many lines
 * lie before it (so rejected lines can be reported by their line in the file). Saved after every acknowledged batch,
 * by writing a temporary file and moving it over the old one, so a kill leaves the old or the new state, never half.
 */
final class ShipState {

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

    void save(Path source, Position position) throws IOException {
        entries.setProperty(key(source), position.offset() + " " + position.lines());
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, ".ship-state", ".tmp");
        try (OutputStream out = Files.newOutputStream(temp)) {
            entries.store(out, "keymeter ship: byte offset and line count of the last acknowledged batch per file");
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String key(Path source) {
        return source.toAbsolutePath().normalize().toString();
    }

    /** A place in a file: byte offset, and the number of lines before it. */
    record Position(long offset, long lines) {
        static final Position START = new Position(0, 0);
    }
}
