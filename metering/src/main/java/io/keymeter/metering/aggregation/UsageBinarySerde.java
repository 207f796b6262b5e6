package io.keymeter.metering.aggregation;

import io.keymeter.events.UsageDaily;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.LocalDate;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * {@link UsageDaily} in a compact binary form for metering's own usage repartition topic and totals store, which
 * read and write one value per accepted request (JSON there, with its date parsing, was a tenth of the topology's
 * time). The public {@code keymeter.usage-daily} topic keeps JSON. A leading format byte leaves room to change it.
 */
public final class UsageBinarySerde {

    private static final byte FORMAT = 1;

    private UsageBinarySerde() {
    }

    public static Serde<UsageDaily> serde() {
        return Serdes.serdeFrom(UsageBinarySerde::write, UsageBinarySerde::read);
    }

    static byte[] write(String topic, UsageDaily usage) {
        if (usage == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeUTF(usage.accountId());
            out.writeUTF(usage.credentialId());
            out.writeUTF(usage.service());
            out.writeLong(usage.date().toEpochDay());
            out.writeLong(usage.requests());
            out.writeLong(usage.units());
        } catch (IOException e) {
            throw new SerializationException("cannot write usage for " + topic, e);
        }
        return bytes.toByteArray();
    }

    static UsageDaily read(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new SerializationException("unknown usage format " + format + " on " + topic);
            }
            return new UsageDaily(in.readUTF(), in.readUTF(), in.readUTF(), LocalDate.ofEpochDay(in.readLong()),
                    in.readLong(), in.readLong());
        } catch (IOException e) {
            throw new SerializationException("cannot read usage from " + topic, e);
        }
    }
}
