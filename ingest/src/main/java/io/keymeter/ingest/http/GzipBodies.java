package io.keymeter.ingest.http;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Reads a gzip body that has been received whole: every member of a concatenation (Commons Compress'
 * {@code GzipCompressorInputStream}), bytes after the last member that are not a member refused, and every failure to
 * decompress thrown as a {@link BadGzipException}, so that it cannot be mistaken for a failure to receive.
 */
final class GzipBodies {

    /** Longest file name or comment a member's header may carry: the library collects one whole in memory. */
    static final int MAX_HEADER_FIELD = 64 * 1024;

    private GzipBodies() {
    }

    static InputStream open(InputStream compressed) throws BadGzipException {
        try {
            return new Decompressing(GzipCompressorInputStream.builder()
                    .setInputStream(new HeaderFieldGuard(new BufferedInputStream(compressed, 64 * 1024)))
                    .setDecompressConcatenated(true).get());
        } catch (IOException e) {
            throw BadGzipException.of(e);
        }
    }

    /** The body is not a valid gzip stream; the message says why, never what it holds. */
    static final class BadGzipException extends IOException {

        private BadGzipException(String message, Throwable cause) {
            super(message, cause);
        }

        static BadGzipException of(IOException e) {
            return e instanceof BadGzipException bad ? bad : new BadGzipException(
                    e instanceof EOFException ? "it ends inside a member" : String.valueOf(e.getMessage()), e);
        }
    }

    /** The decompressor's failures as {@link BadGzipException}s. */
    private static final class Decompressing extends FilterInputStream {

        Decompressing(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw BadGzipException.of(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw BadGzipException.of(e);
            }
        }
    }

    /**
     * Bounds a header's file name and comment: the library reads them a byte at a time up to their zero byte,
     * collecting them in memory (a 16 MiB body that is one header without a zero took several times that in heap),
     * while deflate data is read in blocks. It reads through this stream directly because it supports mark.
     */
    private static final class HeaderFieldGuard extends FilterInputStream {

        private int run;

        HeaderFieldGuard(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            run = b > 0 ? run + 1 : 0;
            // the run may also hold the previous member's 8-byte trailer and this one's 10 fixed header bytes
            if (run > MAX_HEADER_FIELD + 18) {
                throw new BadGzipException("a member's header holds a field longer than " + MAX_HEADER_FIELD
                        + " bytes", null);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            run = 0;
            return super.read(b, off, len);
        }
    }
}
