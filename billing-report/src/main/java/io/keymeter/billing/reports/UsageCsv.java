package io.keymeter.billing.reports;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Writes the usage CSV with Commons CSV (RFC 4180: CRLF line ends; fields with commas, quotes or line breaks
 * quoted, quotes doubled), so a credential name can hold anything.
 */
public final class UsageCsv {

    public static final String[] HEADER = {"date", "credential_id", "credential_name", "service", "requests", "units", "cost"};

    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setHeader(HEADER).get();

    private UsageCsv() {
    }

    public record Line(LocalDate date, String credentialId, String credentialName, String service, long requests,
                       long units, BigDecimal cost) {
    }

    public static void write(Appendable out, List<Line> lines) throws IOException {
        try (CSVPrinter printer = new CSVPrinter(out, FORMAT)) {
            for (Line line : lines) {
                printer.printRecord(line.date(), line.credentialId(), line.credentialName(), line.service(),
                        line.requests(), line.units(), line.cost().toPlainString());
            }
        }
    }
}
