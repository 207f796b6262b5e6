package io.keymeter.ingest.shipper;

import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Sends NDJSON files (or standard input) to {@code /v1/requests} in batches cut at line ends. After each
 * acknowledged batch the file's position is saved, so a run that is stopped and started again resumes after the
 * last acknowledged batch: nothing acknowledged is sent twice and nothing is skipped. A file that grows between
 * runs (a gateway's log) resumes where it stopped; a file replaced under the same name is sent from its start.
 */
final class Shipper {

    /**
     * Bytes of a line sent at most: the server refuses a line over {@code BatchReader.MAX_LINE_BYTES} (65,536, a
     * {@code \r} before its newline not counted) whatever follows, so a longer one is sent cut to one byte past what
     * any accepted line can hold (still refused, with its line number) and the rest of it is skipped. Held whole, a
     * stretch without newlines (zeros a crash left in a log) grew one batch without bound and was refused 413 on
     * every run: the lines after it were never sent.
     */
    static final int LINE_SENT_BYTES = 65_536 + 2;
    private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final BatchPoster poster;
    private final ShipState state;
    private final int batchLines;
    private final int batchBytes;
    private final ProgressBar progress;
    private final ShipSummary summary = new ShipSummary();
    private long totalBytes;
    private long doneBytes;
    /** The first bytes of the file being shipped, read through its channel. */
    private byte[] head = new byte[0];

    /**
     * @param progress null for no progress bar
     */
    Shipper(BatchPoster poster, ShipState state, int batchLines, int batchBytes, ProgressBar progress) {
        this.poster = poster;
        this.state = state;
        this.batchLines = batchLines;
        this.batchBytes = batchBytes;
        this.progress = progress;
    }

    ShipSummary summary() {
        return summary;
    }

    /** Ships every file in turn; with no files, standard input. */
    void ship(List<Path> files, InputStream stdin) throws IOException, InterruptedException, BatchPoster.ShipException {
        if (files.isEmpty()) {
            totalBytes = -1;
            ship(stdin, null, "<stdin>", ShipState.Position.START);
        } else {
            for (Path file : files) {
                totalBytes += Files.size(file);
            }
            state.reconcile(files).forEach(System.err::println);
            for (Path file : files) {
                ShipState.Position from = state.position(file);
                long size = Files.size(file);
                if (from.offset() > size) {
                    System.err.println(file + " is shorter than its saved position: sending it from the start");
                    from = ShipState.Position.START;
                } else if (from.offset() > 0 && !state.sameFile(file)) {
                    System.err.println(file + " was replaced since its saved position (its first bytes differ):"
                            + " sending it from the start");
                    from = ShipState.Position.START;
                }
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    // decided on the channel the lines are read from: a byte appended after a check made through
                    // another one would be read, and sent, as the rest of a cut line
                    Optional<ShipState.Position> resume = afterUnterminatedLine(file, channel, from);
                    from = resume.orElse(from);
                    summary.skippedBytes += from.offset();
                    doneBytes += from.offset();
                    if (resume.isEmpty()) {
                        continue; // nothing after its unterminated last line yet: the next run looks again
                    }
                    head = head(channel);
                    channel.position(from.offset());
                    ship(Channels.newInputStream(channel), file, file.toString(), from);
                }
            }
        }
        if (progress != null) {
            progress.update(summary.sent, doneBytes, totalBytes, true);
            progress.finish();
        }
    }

    /**
     * Where to resume. When the last run ended with a line without its newline (saved after it), the byte after it
     * tells a complete line (its newline: skip it, it was sent) from one cut short (anything else: send the whole
     * line again; the cut part was refused as a line error); no byte after it yet: empty, nothing to send.
     */
    private Optional<ShipState.Position> afterUnterminatedLine(Path file, FileChannel channel, ShipState.Position from)
            throws IOException {
        Optional<ShipState.Position> lineStart = from.offset() == 0 ? Optional.empty() : state.unterminatedLine(file);
        if (lineStart.isEmpty()) {
            return Optional.of(from);
        }
        ByteBuffer next = ByteBuffer.allocate(2);
        if (channel.read(next, from.offset()) <= 0) {
            return Optional.empty();
        }
        if (next.get(0) == '\n' || next.get(0) == '\r') { // its line end (CRLF too): it was complete
            int newline = next.get(0) == '\r' && next.position() > 1 && next.get(1) == '\n' ? 2 : 1;
            return Optional.of(new ShipState.Position(from.offset() + newline, from.lines()));
        }
        System.err.println(file + ": its last line was cut short when it was sent: sending the whole line");
        return lineStart;
    }

    /** The file's first bytes as this channel reads them (the fingerprint saved with its position). */
    private static byte[] head(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(ShipState.HEAD_BYTES);
        while (buf.hasRemaining() && channel.read(buf, buf.position()) > 0) {
            // positional reads: the channel's own position is set afterwards
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    private void ship(InputStream source, Path file, String name, ShipState.Position from)
            throws IOException, InterruptedException, BatchPoster.ShipException {
        Batch batch = new Batch(from);
        byte[] chunk = new byte[64 * 1024];
        PushbackInputStream in = new PushbackInputStream(source, BYTE_ORDER_MARK.length);
        // of the current line, newline excluded; a byte order mark at the start, which the server skips, is not
        // part of line 1's length
        int lineBytes = from.offset() == 0 && startsWithByteOrderMark(in) ? -BYTE_ORDER_MARK.length : 0;
        int n;
        while ((n = in.read(chunk)) > 0) {
            int pos = 0;
            while (pos < n) {
                int newline = indexOf(chunk, pos, n);
                int end = newline < 0 ? n : newline;
                int kept = Math.min(end - pos, LINE_SENT_BYTES - lineBytes); // never negative: lineBytes stops there
                batch.append(chunk, pos, kept);
                batch.skipped += end - pos - kept;
                lineBytes += kept;
                pos = end;
                if (newline >= 0) {
                    batch.append(chunk, newline, 1);
                    pos = newline + 1;
                    lineBytes = 0;
                    batch.skippedBeforeLastLine = batch.skipped;
                    batch.lines++;
                    if (batch.lines >= batchLines || batch.length >= batchBytes) {
                        batch = send(batch, file, name);
                    }
                }
            }
        }
        if (batch.length > 0) {
            boolean unterminated = batch.bytes[batch.length - 1] != '\n';
            if (unterminated) {
                batch.lines++; // the last line of a file without a final newline
            }
            send(batch, file, name, unterminated);
        }
    }

    private Batch send(Batch batch, Path file, String name)
            throws IOException, InterruptedException, BatchPoster.ShipException {
        return send(batch, file, name, false);
    }

    /**
     * Posts the batch and saves the position after it. {@code unterminated}: the batch ends with a line without its
     * newline, which may still be being written: the state also says where that line starts, so the next run can
     * send it whole if it was cut short (see {@link #afterUnterminatedLine}). (Without that, the rest of a cut line
     * was sent alone; and a position saved before such a line sent a complete one again on every run.)
     */
    private Batch send(Batch batch, Path file, String name, boolean unterminated)
            throws IOException, InterruptedException, BatchPoster.ShipException {
        if (Thread.interrupted()) {
            throw new InterruptedException("stopped before a batch");
        }
        BatchPoster.Answer answer = poster.post(batch.bytes, batch.length);
        // in the file, the batch spans what it holds and what it skipped of over-long lines
        ShipState.Position next = new ShipState.Position(batch.start.offset() + batch.length + batch.skipped,
                batch.start.lines() + batch.lines);
        if (file != null) {
            state.save(file, next, head, unterminated ? new ShipState.Position(
                    batch.start.offset() + lastLineStart(batch) + batch.skippedBeforeLastLine,
                    batch.start.lines() + batch.lines - 1) : null);
        }
        summary.batches++;
        summary.sent += batch.lines;
        summary.accepted += answer.accepted();
        summary.retries += answer.attempts() - 1;
        for (BatchPoster.LineError error : answer.rejected()) {
            summary.rejected(name, batch.start.lines() + error.line(), error.error());
        }
        doneBytes += batch.length + batch.skipped;
        if (progress != null) {
            progress.update(summary.sent, doneBytes, totalBytes, false);
        }
        return new Batch(next, batch.bytes);
    }

    /** Where the batch's last line starts: just after its last newline, or at 0. */
    private static int lastLineStart(Batch batch) {
        for (int i = batch.length - 1; i >= 0; i--) {
            if (batch.bytes[i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    /** Whether the stream starts with a UTF-8 byte order mark; reads its first bytes (waiting for them) and puts them back. */
    private static boolean startsWithByteOrderMark(PushbackInputStream in) throws IOException {
        byte[] first = in.readNBytes(BYTE_ORDER_MARK.length);
        in.unread(first);
        return Arrays.equals(first, BYTE_ORDER_MARK);
    }

    private static int indexOf(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** The bytes of the batch being filled, and where in the file it starts. */
    private static final class Batch {
        final ShipState.Position start;
        byte[] bytes;
        int length;
        int lines;
        /** Bytes of over-long lines read and not held (see {@link #LINE_SENT_BYTES}), in all and before the last line. */
        long skipped;
        long skippedBeforeLastLine;

        Batch(ShipState.Position start) {
            this(start, new byte[1024 * 1024]);
        }

        Batch(ShipState.Position start, byte[] reuse) {
            this.start = start;
            this.bytes = reuse;
        }

        void append(byte[] src, int from, int count) {
            if (length + count > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + count));
            }
            System.arraycopy(src, from, bytes, length, count);
            length += count;
        }
    }
}
