package io.keymeter.billing.reports;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.QuoteMode;

/**
 * Writes the usage CSV with Commons CSV (RFC 4180: CRLF line ends; fields with commas, quotes or line breaks
 * quoted, quotes doubled), so a credential name can hold anything.
 * <p>
 * The file is a download meant for spreadsheets, and a spreadsheet runs a cell that starts with {@code =}, {@code +},
 * {@code -}, {@code @}, a tab or a carriage return as a formula, quoted or not, and after leading spaces too: anyone who may name a credential
 * could make the file call out or run something when the account's billing contact opens it. Such a name is written
 * with a leading {@code '} (OWASP's advice for CSV injection), which spreadsheets show as text; the JSON report keeps
 * the name as it is. The other columns are ids, catalog service names and non-negative numbers.
 * <p>
 * Every field of a row is quoted: a spreadsheet whose locale separates lists with {@code ;} split an unquoted
 * {@code x;=cmd|...} at the semicolon, and the cell after it started with {@code =}. A quoted field stays one cell
 * whatever the separator. The header is the contract's line, unquoted (its names hold nothing to quote).
 */
public final class UsageCsv {

    public static final String[] HEADER = {"date", "credential_id", "credential_name", "service", "requests", "units", "cost"};

    /** OWASP's list, a line feed, and the full-width forms of = + - @ (taken as operators in East Asian locales). */
    private static final String FORMULA_STARTS = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20";
    private static final CSVFormat HEADER_FORMAT = CSVFormat.RFC4180;
    private static final CSVFormat ROW_FORMAT = CSVFormat.RFC4180.builder().setQuoteMode(QuoteMode.ALL).get();

    private UsageCsv() {
    }

    public record Line(LocalDate date, String credentialId, String credentialName, String service,
                       BigInteger requests, BigInteger units, BigDecimal cost) {

        public Line(LocalDate date, String credentialId, String credentialName, String service, long requests,
                    long units, BigDecimal cost) {
            this(date, credentialId, credentialName, service, BigInteger.valueOf(requests), BigInteger.valueOf(units),
                    cost);
        }
    }

    public static void write(Appendable out, List<Line> lines) throws IOException {
        new CSVPrinter(out, HEADER_FORMAT).printRecord((Object[]) HEADER);
        try (CSVPrinter printer = new CSVPrinter(out, ROW_FORMAT)) {
            for (Line line : lines) {
                printer.printRecord(line.date(), line.credentialId(), asText(line.credentialName()), line.service(),
                        line.requests(), line.units(), line.cost().toPlainString());
            }
        }
    }

    static String asText(String cell) {
        return cell != null && FORMULA_STARTS.indexOf(firstAfterBlanks(cell)) >= 0 ? "'" + cell : cell;
    }

    /**
     * Spreadsheets trim leading spaces on import (LibreOffice's "Trim spaces", Excel for a cell it then evaluates),
     * so {@code " =1+1"} runs as a formula too: the check looks past spaces, no-break and ideographic spaces.
     */
    private static char firstAfterBlanks(String cell) {
        for (int i = 0; i < cell.length(); i++) {
            char c = cell.charAt(i);
            if (c != ' ' && !Character.isSpaceChar(c)) {
                return c;
            }
        }
        return 'a';
    }
}
