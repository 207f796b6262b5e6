package io.keymeter.ingest.shipper;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

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
final class ShipState implements Closeable {

    /** Bytes of a file's start that identify it. */
    static final int HEAD_BYTES = 4096;

    private static final Pattern ENTRY = Pattern.compile("\\d{1,18} \\d{1,18}( \\d{1,4} [0-9a-f]{64}( \\d{1,18} \\d{1,18})?)?");

    private final Path file;
    private final Properties entries = new Properties();
    private FileChannel lockChannel;

    private ShipState(Path file) {
        this.file = file;
    }

    static ShipState load(Path file) throws IOException {
        ShipState state = new ShipState(file);
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                state.entries.load(in);
            } catch (IllegalArgumentException e) { // a broken unicode escape
                throw damaged(file, e.getMessage());
            }
            for (String key : state.entries.stringPropertyNames()) {
                if (!ENTRY.matcher(state.entries.getProperty(key)).matches()) {
                    throw damaged(file, "the entry for " + key);
                }
            }
        }
        return state;
    }

    /**
     * The state for one run, held against every other run for its whole length (a lock file beside it): two runs
     * on one state file each sent what the other sent, or left it behind where the other had got, so the next run
     * sent again what was acknowledged. Fails, naming the state file, before anything is sent when the file cannot
     * be written or another run holds it.
     */
    static ShipState lockAndLoad(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path lock = dir.resolve(file.getFileName() + ".lock");
        FileChannel channel;
        if (Files.notExists(dir)) {
            // a typo in --state made a new state beside nothing: every file sent again from its start
            throw new IOException("the directory of the state file " + file + " does not exist: make it, or correct"
                    + " --state; nothing sent");
        }
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            String reason = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason()
                    : e instanceof NoSuchFileException ? "no such directory"
                    : e instanceof FileAlreadyExistsException ? "a file stands where a directory is needed"
                    : e instanceof AccessDeniedException ? "permission denied" : e.toString();
            throw new IOException("cannot write beside the state file " + file + " (" + reason + "); nothing sent", e);
        }
        if (Files.isDirectory(file)) {
            channel.close();
            throw new IOException("the state file " + file + " is a directory; nothing sent");
        }
        try {
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (OverlappingFileLockException e) { // by this JVM
                held = null;
            }
            if (held == null) {
                throw new IOException("the state file " + file + " is in use by another ship run; nothing sent");
            }
            ShipState state = load(file);
            state.lockChannel = channel;
            return state;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static IOException damaged(Path file, String where) {
        return new IOException("the state file " + file + " is damaged (" + where + "): fix it, or delete it to send"
                + " every file from its start; nothing sent");
    }

    boolean exists() {
        return Files.exists(file);
    }

    @Override
    public void close() throws IOException {
        if (lockChannel != null) {
            lockChannel.close(); // releases the lock
        }
    }

    /**
     * Matches saved positions to this run's files by their first bytes as well as by name, before any is sent: a log
     * renamed by its rotation ({@code app.ndjson} to {@code app.ndjson.1}) resumes where it stopped under its old
     * name, where it was sent again whole, and the new file under the old name starts from zero (the position moves
     * with the file). Done for all files first: shipped in turn, a new file saved over its name's entry before the
     * renamed file was reached. Returns one note per file whose position came from another name.
     */
    List<String> reconcile(List<Path> files) throws IOException {
        Map<Path, byte[]> heads = new LinkedHashMap<>();
        Map<Path, Long> sizes = new HashMap<>();
        for (Path source : files) {
            try (InputStream in = Files.newInputStream(source)) {
                heads.put(source, in.readNBytes(HEAD_BYTES));
            }
            sizes.put(source, Files.size(source));
        }
        Map<String, String> assigned = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>();
        List<Path> unmatched = new ArrayList<>();
        for (Path source : heads.keySet()) {
            String own = key(source);
            String value = entries.getProperty(own);
            if (value != null && !taken.contains(own) && (value.split(" ").length < 4
                    || fits(value, heads.get(source), sizes.get(source)))) {
                assigned.put(own, value);
                taken.add(own);
            } else {
                unmatched.add(source);
            }
        }
        List<String> notes = new ArrayList<>();
        List<String> keys = new ArrayList<>(entries.stringPropertyNames());
        Collections.sort(keys);
        for (Path source : unmatched) {
            for (String key : keys) {
                String value = entries.getProperty(key);
                if (!taken.contains(key) && value.split(" ").length >= 4
                        && fits(value, heads.get(source), sizes.get(source))) {
                    assigned.put(key(source), value);
                    taken.add(key);
                    notes.add(source + " was shipped as " + key + " (renamed by a rotation?): resuming where it stopped");
                    break;
                }
            }
        }
        taken.stream().filter(key -> !assigned.containsKey(key)).forEach(entries::remove);
        entries.putAll(assigned);
        return notes;
    }

    /** Whether an entry's fingerprint is that of a file with these first bytes, and its position within the file. */
    private static boolean fits(String value, byte[] head, long size) {
        String[] parts = value.split(" ");
        int headBytes = Integer.parseInt(parts[2]);
        return Long.parseLong(parts[0]) <= size && headBytes > 0 && headBytes <= head.length
                && sha256(head, headBytes).equals(parts[3]);
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
