package io.keymeter.billing.api;

import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.billing.reports.ReportViews.DailyUsage;
import io.keymeter.billing.reports.ReportViews.StatementList;
import io.keymeter.billing.reports.ReportViews.UsageReport;
import io.keymeter.billing.reports.UsageReports;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.platform.security.Account;
import io.keymeter.platform.web.ApiProblem;
import java.time.Clock;
import java.util.stream.Collectors;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Usage and billing (CONTRACT §3), for the caller's account only. {@code cycle} defaults to the current one; an
 * empty parameter counts as absent. Another account's credential answers 404 exactly like a missing one.
 */
@RestController
class UsageController {

    private static final MediaType CSV = new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8);

    private final UsageReports reports;
    private final Clock clock;

    UsageController(UsageReports reports, Clock clock) {
        this.reports = reports;
        this.clock = clock;
    }

    @GetMapping("/v1/usage")
    UsageReport usage(Account account, @RequestParam(required = false) String cycle,
                      @RequestParam(required = false) String credentialId) {
        return reports.usage(account.id(), cycle(cycle), blankToNull(credentialId));
    }

    @GetMapping("/v1/usage/daily")
    DailyUsage daily(Account account, @RequestParam(required = false) String cycle,
                     @RequestParam(required = false) String credentialId, @RequestParam(required = false) String service) {
        BillingCycle billingCycle = cycle(cycle);
        String serviceName = blankToNull(service);
        if (serviceName != null && ServiceCatalog.byService(serviceName).isEmpty()) {
            throw ApiProblem.invalid("service", "unknown service; one of " + ServiceCatalog.ALL.stream()
                    .map(ServiceCatalog.Service::service).collect(Collectors.joining(", ")));
        }
        return reports.daily(account.id(), billingCycle, blankToNull(credentialId), serviceName);
    }

    @GetMapping("/v1/usage.csv")
    ResponseEntity<String> csv(Account account, @RequestParam(required = false) String cycle,
                               @RequestParam(required = false) String credentialId) {
        BillingCycle billingCycle = cycle(cycle);
        String body = reports.csv(account.id(), billingCycle, blankToNull(credentialId));
        return ResponseEntity.ok().contentType(CSV)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"usage-" + billingCycle.id() + ".csv\"")
                .body(body);
    }

    @GetMapping("/v1/statements")
    StatementList statements(Account account, @RequestParam(required = false) String cycle) {
        return reports.statements(account.id(), cycle(cycle));
    }

    private BillingCycle cycle(String raw) {
        String value = blankToNull(raw);
        if (value == null) {
            return BillingCycle.current(clock);
        }
        return BillingCycle.parse(value)
                .orElseThrow(() -> ApiProblem.invalid("cycle", "must be a month as YYYY-MM, for example 2026-11"));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}
