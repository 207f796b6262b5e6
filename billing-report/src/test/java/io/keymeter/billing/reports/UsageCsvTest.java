package io.keymeter.billing.reports;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

class UsageCsvTest {

    @Test
    void namesWithCommasQuotesAndNewlinesSurviveARoundTrip() throws Exception {
        StringBuilder out = new StringBuilder();
        String name = "Acme, \"West\"\nline two";
        UsageCsv.write(out, List.of(new UsageCsv.Line(LocalDate.parse("2026-11-02"), "c1", name, "geocoding", 3, 40,
                new BigDecimal("0.02"))));

        assertThat(out.toString()).startsWith("date,credential_id,credential_name,service,requests,units,cost\r\n")
                .contains("\"Acme, \"\"West\"\"\nline two\"");
        List<CSVRecord> records = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(out.toString())).getRecords();
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.get("credential_name")).isEqualTo(name);
            assertThat(r.get("date")).isEqualTo("2026-11-02");
            assertThat(r.get("units")).isEqualTo("40");
            assertThat(r.get("cost")).isEqualTo("0.02");
        });
    }

    @Test
    void aNameASpreadsheetWouldRunAsAFormulaIsWrittenAsText() throws Exception {
        List<String> names = List.of("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1)",
                "\tTab", "\rCR", "Acme = West", "a-b", "\uff1dSUM(A1)", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", "\nLF",
                " =1+1", "\u00a0 +1", "\u3000@SUM(A1)", "  ", "a =b");
        StringBuilder out = new StringBuilder();
        UsageCsv.write(out, names.stream().map(name -> new UsageCsv.Line(LocalDate.parse("2026-11-02"), "c1", name,
                "geocoding", 1, 1, BigDecimal.ZERO)).toList());

        List<CSVRecord> records = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(out.toString())).getRecords();
        assertThat(records).extracting(r -> r.get("credential_name")).containsExactly(
                "'=HYPERLINK(\"http://evil.example\",\"x\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR",
                "Acme = West", "a-b",
                // full-width forms, which spreadsheets in East Asian locales take as the operators; a leading line feed
                "'\uff1dSUM(A1)", "'\uff0b1", "'\uff0d1", "'\uff20SUM(A1)", "'\nLF",
                // after leading spaces, which spreadsheets trim on import; blanks alone and a later = stay as they are
                "' =1+1", "'\u00a0 +1", "'\u3000@SUM(A1)", "  ", "a =b");
    }

    /**
     * Excel in a locale that separates lists with {@code ;} splits an unquoted line at each semicolon: a name like
     * this one, which holds no comma or quote and so needed no quoting under RFC 4180, put {@code =cmd|...} at the
     * start of a cell of its own. Every field of a row is quoted, so it stays one cell.
     */
    @Test
    void everyFieldOfARowIsQuotedSoASemicolonCannotStartACell() throws Exception {
        String name = "x;=cmd|' /C calc'!A0;";
        StringBuilder out = new StringBuilder();
        UsageCsv.write(out, List.of(new UsageCsv.Line(LocalDate.parse("2026-11-02"), "c1", name, "geocoding", 3, 40,
                new BigDecimal("0.02"))));

        assertThat(out.toString()).isEqualTo("date,credential_id,credential_name,service,requests,units,cost\r\n"
                + "\"2026-11-02\",\"c1\",\"x;=cmd|' /C calc'!A0;\",\"geocoding\",\"3\",\"40\",\"0.02\"\r\n");
        List<CSVRecord> records = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(out.toString())).getRecords();
        assertThat(records).singleElement().satisfies(r -> assertThat(r.get("credential_name")).isEqualTo(name));
    }

    @Test
    void anEmptyCycleIsJustTheHeader() throws Exception {
        StringBuilder out = new StringBuilder();
        UsageCsv.write(out, List.of());
        assertThat(out).hasToString("date,credential_id,credential_name,service,requests,units,cost\r\n");
    }
}
