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
 * <p>
 * The file is a download meant for spreadsheets, and a spreadsheet runs a cell that starts with {@code =}, {@code +},
 * {@code -}, {@code @}, a tab or a carriage return as a formula, quoted or not: anyone who may name a credential
 * could make the file call out or run something when the account's billing contact opens it. Such a name is written
 * with a leading {@code '} (OWASP's advice for CSV injection), which spreadsheets show as text; the JSON report keeps
 * the name as it is. The other columns are ids, catalog service names and non-negative numbers.
 */
public final class UsageCsv {

    public static final String[] HEADER = {"date", "credential_id", "credential_name", "service", "requests", "units", "cost"};

    private static final String FORMULA_STARTS = "=+-@\t\r";
    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setHeader(HEADER).get();

    private UsageCsv() {
    }

    public record Line(LocalDate date, String credentialId, String credentialName, String service, long requests,
                       long units, BigDecimal cost) {
    }

    public static void write(Appendable out, List<Line> lines) throws IOException {
        try (CSVPrinter printer = new CSVPrinter(out, FORMAT)) {
            for (Line line : lines) {
                printer.printRecord(line.date(), line.credentialId(), asText(line.credentialName()), line.service(),
                        line.requests(), line.units(), line.cost().toPlainString());
            }
        }
    }

    static String asText(String cell) {
        return cell != null && !cell.isEmpty() && FORMULA_STARTS.indexOf(cell.charAt(0)) >= 0 ? "'" + cell : cell;
    }
}
