package io.keymeter.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FormatLocaleTest {

    private final Locale general = Locale.getDefault();
    private final Locale format = Locale.getDefault(Locale.Category.FORMAT);
    private final Locale display = Locale.getDefault(Locale.Category.DISPLAY);

    @AfterEach
    void restore() {
        Locale.setDefault(general); // also sets both categories: set them back after it
        Locale.setDefault(Locale.Category.FORMAT, format);
        Locale.setDefault(Locale.Category.DISPLAY, display);
    }

    @Test
    void numbersAreFormattedWithAsciiDigitsWhateverTheHostLocale() {
        Locale arabic = Locale.forLanguageTag("ar-EG");
        Locale.setDefault(arabic);
        assertThat(String.format("%05d", 42)).as("the host's digits before the pin").isNotEqualTo("00042");

        FormatLocale.pin();

        assertThat(Locale.getDefault(Locale.Category.FORMAT)).isEqualTo(Locale.US);
        assertThat(String.format("%05d", 42)).isEqualTo("00042");
        assertThat(Locale.getDefault(Locale.Category.DISPLAY)).as("display texts keep the host's").isEqualTo(arabic);
    }
}
