package io.keymeter.billing.reports;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.Json;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class ReportViewsJsonTest {

    @Test
    void aCredentialWhoseNameIsUnknownShowsANullNameAsTheContractListsIt() {
        // the HTTP mapper is the topics' one, which leaves nulls out by default
        JsonNode usage = Json.mapper().valueToTree(new ReportViews.CredentialUsage("cred-1", null, List.of(), 0,
                Map.of(), BigDecimal.ZERO));

        assertThat(usage.has("name")).as("%s", usage).isTrue();
        assertThat(usage.get("name").isNull()).isTrue();
        assertThat(usage.get("rejectedByReason").isObject()).as("no rejections: an empty object").isTrue();
    }
}
