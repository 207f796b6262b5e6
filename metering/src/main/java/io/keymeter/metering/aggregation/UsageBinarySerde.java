package io.keymeter.metering.aggregation;

import io.keymeter.events.UsageDaily;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * {@link UsageDaily} in a compact binary form for metering's own usage repartition topic and totals store, which
 * read and write one value per accepted request (JSON there, with its date parsing, was a tenth of the topology's
 * time). The public {@code keymeter.usage-daily} topic keeps JSON. A leading format byte leaves room to change it.
 * <p>
 * Format 2 (written): three strings as a 2-byte length and their UTF-8 bytes, then epoch day, requests and units as
 * 8-byte longs, read straight from the array. Format 1 ({@link DataInputStream#readUTF}, whose per-record buffers
 * made it a twelfth of the totals' time) is still read, so records written before an upgrade stay readable.
 */
public final class UsageBinarySerde {

    private static final byte FORMAT_DATA_STREAM = 1;
    private static final byte FORMAT = 2;

    private UsageBinarySerde() {
    }

    public static Serde<UsageDaily> serde() {
        return Serdes.serdeFrom(UsageBinarySerde::write, UsageBinarySerde::read);
    }

    static byte[] write(String topic, UsageDaily usage) {
        if (usage == null) {
            return null;
        }
        byte[] account = utf8(usage.accountId(), topic);
        byte[] credential = utf8(usage.credentialId(), topic);
        byte[] service = utf8(usage.service(), topic);
        ByteBuffer out = ByteBuffer.allocate(1 + 6 + account.length + credential.length + service.length + 24);
        out.put(FORMAT);
        putString(out, account);
        putString(out, credential);
        putString(out, service);
        return out.putLong(usage.date().toEpochDay()).putLong(usage.requests()).putLong(usage.units()).array();
    }

    static UsageDaily read(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        byte format = data.length == 0 ? 0 : data[0];
        try {
            return switch (format) {
                case FORMAT -> readCompact(data);
                case FORMAT_DATA_STREAM -> readDataStream(data);
                default -> throw new SerializationException("unknown usage format " + format + " on " + topic);
            };
        } catch (IOException | BufferUnderflowException | IllegalArgumentException e) {
            throw new SerializationException("cannot read usage from " + topic, e);
        }
    }

    private static UsageDaily readCompact(byte[] data) {
        ByteBuffer in = ByteBuffer.wrap(data, 1, data.length - 1);
        return new UsageDaily(getString(in), getString(in), getString(in), LocalDate.ofEpochDay(in.getLong()),
                in.getLong(), in.getLong());
    }

    private static UsageDaily readDataStream(byte[] data) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data, 1, data.length - 1))) {
            return new UsageDaily(in.readUTF(), in.readUTF(), in.readUTF(), LocalDate.ofEpochDay(in.readLong()),
                    in.readLong(), in.readLong());
        }
    }

    private static byte[] utf8(String value, String topic) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0xFFFF) {
            throw new SerializationException("usage field of " + bytes.length + " bytes is too long for " + topic);
        }
        return bytes;
    }

    private static void putString(ByteBuffer out, byte[] utf8) {
        out.putShort((short) utf8.length).put(utf8);
    }

    private static String getString(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        if (length > in.remaining()) {
            throw new IllegalArgumentException("string of " + length + " bytes past the end");
        }
        String value = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
        in.position(in.position() + length);
        return value;
    }
}
