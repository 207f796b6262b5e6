package io.keymeter.billing.api;

import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.billing.reports.LedgerStores;
import io.keymeter.billing.reports.UsageReports;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.platform.security.Account;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.platform.web.QueryParameters;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.HostInfo;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Usage and billing (CONTRACT §3), for the caller's account only. {@code cycle} defaults to the current one; an
 * empty parameter counts as absent. Another account's credential answers 404 exactly like a missing one. Input is
 * checked here; the answer comes from the instance that owns the account (this one, or forwarded to it).
 */
@RestController
class UsageController {

    private static final MediaType CSV = new MediaType("text", "csv", StandardCharsets.UTF_8);

    private final UsageReports reports;
    private final LedgerStores stores;
    private final OwnerForwarder forwarder;
    private final Clock clock;

    UsageController(UsageReports reports, LedgerStores stores, OwnerForwarder forwarder, Clock clock) {
        this.reports = reports;
        this.stores = stores;
        this.forwarder = forwarder;
        this.clock = clock;
    }

    @GetMapping("/v1/usage")
    ResponseEntity<?> usage(Account account, HttpServletRequest request, @RequestParam(required = false) String cycle,
                            @RequestParam(required = false) String credentialId) {
        return ofCycleAndCredential(account, request, cycle, credentialId, reports::usage);
    }

    @GetMapping("/v1/usage/daily")
    ResponseEntity<?> daily(Account account, HttpServletRequest request, @RequestParam(required = false) String cycle,
                            @RequestParam(required = false) String credentialId,
                            @RequestParam(required = false) String service) {
        QueryParameters.only(request, "cycle", "credentialId", "service");
        BillingCycle billingCycle = cycle(cycle);
        String serviceName = emptyToNull(service);
        if (serviceName != null && ServiceCatalog.byService(serviceName).isEmpty()) {
            throw ApiProblem.invalid("service", "unknown service; one of " + ServiceCatalog.ALL.stream()
                    .map(ServiceCatalog.Service::service).collect(Collectors.joining(", ")));
        }
        return answer(account, request, () -> ResponseEntity.ok()
                .body(reports.daily(account.id(), billingCycle, emptyToNull(credentialId), serviceName)));
    }

    // text/csv whatever the Accept (RFC 9110 lets a server disregard it): a client asking JSON of every call
    // still gets its file
    @GetMapping("/v1/usage.csv")
    ResponseEntity<?> csv(Account account, HttpServletRequest request, @RequestParam(required = false) String cycle,
                          @RequestParam(required = false) String credentialId) {
        QueryParameters.only(request, "cycle", "credentialId");
        BillingCycle billingCycle = cycle(cycle);
        return answer(account, request, () -> ResponseEntity.ok().contentType(CSV)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"usage-" + billingCycle.id() + ".csv\"")
                .body(reports.csv(account.id(), billingCycle, emptyToNull(credentialId))));
    }

    @GetMapping("/v1/statements")
    ResponseEntity<?> statements(Account account, HttpServletRequest request, @RequestParam(required = false) String cycle) {
        QueryParameters.only(request, "cycle");
        BillingCycle billingCycle = cycle(cycle);
        return answer(account, request, () -> ResponseEntity.ok().body(reports.statements(account.id(), billingCycle)));
    }

    /** Keys used after they were invalidated or expired, by the cycle of their last such use (a stolen key shows here). */
    @GetMapping("/v1/security-alerts")
    ResponseEntity<?> alerts(Account account, HttpServletRequest request, @RequestParam(required = false) String cycle,
                             @RequestParam(required = false) String credentialId) {
        return ofCycleAndCredential(account, request, cycle, credentialId, reports::alerts);
    }

    /** A report of the account's cycle, optionally narrowed to one credential. */
    interface CycleReport {
        Object of(String accountId, BillingCycle cycle, String credentialId);
    }

    private ResponseEntity<?> ofCycleAndCredential(Account account, HttpServletRequest request, String cycle,
                                                   String credentialId, CycleReport report) {
        QueryParameters.only(request, "cycle", "credentialId");
        BillingCycle billingCycle = cycle(cycle);
        return answer(account, request, () -> ResponseEntity.ok()
                .body(report.of(account.id(), billingCycle, emptyToNull(credentialId))));
    }

    /**
     * Answers here when this instance owns the account, otherwise forwards to the owner. A forwarded call that finds
     * another owner here (the instances' views of a rebalance differ, or the header came from outside) is a 503, not
     * an answer from partitions that do not hold the account.
     */
    private ResponseEntity<?> answer(Account account, HttpServletRequest request, Supplier<ResponseEntity<?>> local) {
        Optional<HostInfo> owner = stores.remoteOwner(account.id());
        if (owner.isPresent()) {
            if (OwnerForwarder.isForwarded(request)) {
                throw LedgerStores.moving();
            }
            return forwarder.forward(owner.get(), request);
        }
        ResponseEntity<?> answer = local.get();
        Optional<String> self = stores.self();
        if (self.isEmpty()) {
            return answer;
        }
        return ResponseEntity.status(answer.getStatusCode()).headers(answer.getHeaders())
                .header(OwnerForwarder.ANSWERED_BY, self.get()).body(answer.getBody());
    }

    private BillingCycle cycle(String raw) {
        String value = emptyToNull(raw);
        if (value == null) {
            return BillingCycle.current(clock);
        }
        return BillingCycle.parse(value)
                .orElseThrow(() -> ApiProblem.invalid("cycle", "must be a month as YYYY-MM from "
                        + BillingCycle.FIRST + " to " + BillingCycle.LAST + ", for example 2026-11"));
    }

    /** Only an empty value is absent: one with spaces or control characters around it was trimmed and answered. */
    private static String emptyToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
