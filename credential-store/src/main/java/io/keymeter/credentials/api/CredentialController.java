package io.keymeter.credentials.api;

import io.keymeter.credentials.api.CredentialResponses.CredentialList;
import io.keymeter.credentials.api.CredentialResponses.CredentialView;
import io.keymeter.credentials.api.CredentialResponses.IssuedKey;
import io.keymeter.credentials.lifecycle.CommandReply;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.credentials.lifecycle.CredentialCommand;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.CredentialIds;
import io.keymeter.events.Json;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.security.Account;
import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.platform.web.QueryParameters;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.streams.state.HostInfo;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * CONTRACT §3, credentials. Every change is a command answered by the single writer of the credential; reads come
 * from the store. Plaintext keys are generated here, sent to nobody but the caller, and only after the store
 * confirmed the key: commands carry the keyId and the hash of the secret only.
 */
@RestController
@RequestMapping("/v1/credentials")
class CredentialController {

    private final CommandBus bus;
    private final CredentialReads reads;
    private final ReadForwarder forwarder;
    private final ForwardedCalls forwardedCalls;
    private final KeymeterProperties.Keys keys;
    private final Clock clock;
    private final VerifyCatchUp catchUp;

    /** The HTTP API's mapper: reads the body of a call that takes none, as it reads every other body. */
    private final JsonMapper json;

    CredentialController(CommandBus bus, CredentialReads reads, ReadForwarder forwarder, ForwardedCalls forwardedCalls,
                         KeymeterProperties properties, Clock clock, JsonMapper json, VerifyCatchUp catchUp) {
        this.json = json;
        this.catchUp = catchUp;
        this.bus = bus;
        this.reads = reads;
        this.forwarder = forwarder;
        this.forwardedCalls = forwardedCalls;
        this.keys = properties.keys();
        this.clock = clock;
    }

    @PostMapping
    ResponseEntity<CredentialView> create(Account account, @RequestBody CredentialRequests.CreateCredential body,
                                          HttpServletRequest request) {
        QueryParameters.none(request);
        CredentialValidator v = new CredentialValidator();
        String name = v.name(body.name());
        List<String> privileges = v.privileges(body.privileges());
        List<String> itemAccess = v.itemAccess(body.itemAccess(), false);
        List<String> referrers = v.referrers(body.referrers(), false);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        if (versions != null) { // RFC 9110: a tag names a current representation, and a new credential has none
            throw ApiProblem.preconditionFailed("A credential being created has no version yet: If-Match takes only *"
                    + " here; nothing was created.");
        }
        String id = UUID.randomUUID().toString();
        String location = "/v1/credentials/" + id;
        Credential created;
        try {
            created = applied(new CredentialCommand.CreateCredential(newCommandId(), id, account.id(),
                    bus.deadline(), name, privileges, itemAccess, referrers), id);
        } catch (CommandBus.Unconfirmed e) {
            throw e.created(location);
        }
        Instant now = clock.instant();
        return ResponseEntity.created(URI.create(location)).eTag(IfMatch.tag(created, now))
                .body(CredentialView.of(created, now));
    }

    /**
     * This instance's credentials of the account, plus those of every other instance of the store. The answers must
     * cover every partition of the store: one moving between instances (a rebalance, an instance leaving) is held by
     * none that can read it, and the list is a 503 rather than one without its credentials.
     */
    @GetMapping
    ResponseEntity<CredentialList> list(Account account, HttpServletRequest request,
                                        @RequestParam(required = false) String limit,
                                        @RequestParam(required = false) String after,
                                        @RequestHeader(name = ReadForwarder.HEADER, required = false) String forwarded) {
        QueryParameters.only(request, "limit", "after");
        CredentialPage page = CredentialPage.of(limit, after);
        CredentialReads.Listed local = reads.list(account.id());
        if (forwarded != null) { // forwarded whole: the instance the caller asked pages the merged list
            return ResponseEntity.ok().header(ReadForwarder.PARTITIONS, ReadForwarder.partitionsHeader(local.partitions()))
                    .body(new CredentialList(local.credentials().stream().map(this::view).toList(), null));
        }
        Map<String, CredentialView> views = new HashMap<>();
        local.credentials().forEach(c -> views.put(c.id(), view(c)));
        Set<Integer> covered = new HashSet<>(local.partitions());
        for (HostInfo other : reads.otherInstances()) {
            ReadForwarder.ForwardedList answer = forwarder.getList(other, "/v1/credentials", signed(request));
            covered.addAll(answer.partitions().orElseGet(() -> reads.partitionsOf(other)));
            // a credential two instances both answered for (their views of a rebalance differ) is listed once
            answer.body().get("credentials").forEach(c -> {
                CredentialView view = Json.mapper().treeToValue(c, CredentialView.class);
                views.putIfAbsent(view.id(), view);
            });
        }
        if (!covered.containsAll(reads.allPartitions())) {
            throw ApiProblem.unavailable("Credentials are moving between instances of the credential store.",
                    CommandBus.RETRY_AFTER);
        }
        return ResponseEntity.ok(page.pageOf(List.copyOf(views.values())));
    }

    /** Answered by the instance that owns the credential's partition (forwarded there when it is another one). */
    @GetMapping("/{id}")
    ResponseEntity<?> get(Account account, @PathVariable String id, HttpServletRequest request,
                          @RequestHeader(name = ReadForwarder.HEADER, required = false) String forwarded) {
        QueryParameters.only(request);
        checkId(id);
        if (forwarded == null) {
            Optional<HostInfo> owner = reads.owner(id);
            if (owner.isPresent()) {
                return forwarder.get(owner.get(), "/v1/credentials/" + id, signed(request),
                        ForwardedCalls.accept(request));
            }
        }
        return answer(reads.find(account.id(), id).orElseThrow(() -> notFound(id)));
    }

    /** The caller's call, signed for the instance it is forwarded to: the caller's token stays here. */
    private Function<URI, String> signed(HttpServletRequest request) {
        return uri -> forwardedCalls.authorization(request, uri);
    }

    @PutMapping("/{id}/privileges")
    ResponseEntity<CredentialView> privileges(Account account, @PathVariable String id,
                                              @RequestBody CredentialRequests.Privileges body,
                                              HttpServletRequest request) {
        QueryParameters.none(request);
        checkId(id);
        CredentialValidator v = new CredentialValidator();
        List<String> privileges = v.privileges(body.privileges());
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        return answer(applied(new CredentialCommand.ChangePrivileges(newCommandId(), id, account.id(), bus.deadline(),
                privileges, versions), id));
    }

    @PutMapping("/{id}/item-access")
    ResponseEntity<CredentialView> itemAccess(Account account, @PathVariable String id,
                                              @RequestBody CredentialRequests.ItemAccess body,
                                              HttpServletRequest request) {
        QueryParameters.none(request);
        checkId(id);
        CredentialValidator v = new CredentialValidator();
        List<String> itemAccess = v.itemAccess(body.itemAccess(), true);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        return answer(applied(new CredentialCommand.ChangeItemAccess(newCommandId(), id, account.id(), bus.deadline(),
                itemAccess, versions), id));
    }

    @PutMapping("/{id}/referrers")
    ResponseEntity<CredentialView> referrers(Account account, @PathVariable String id,
                                             @RequestBody CredentialRequests.Referrers body,
                                             HttpServletRequest request) {
        QueryParameters.none(request);
        checkId(id);
        CredentialValidator v = new CredentialValidator();
        List<String> referrers = v.referrers(body.referrers(), true);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        return answer(applied(new CredentialCommand.ChangeReferrers(newCommandId(), id, account.id(), bus.deadline(),
                referrers, versions), id));
    }

    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(Account account, @PathVariable String id, HttpServletRequest request)
            throws IOException {
        QueryParameters.none(request);
        checkId(id);
        noFields(request);
        CredentialValidator v = new CredentialValidator();
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        applied(new CredentialCommand.DeleteCredential(newCommandId(), id, account.id(), bus.deadline(), versions), id);
        return ResponseEntity.noContent().build();
    }

    @PostMapping("/{id}/keys")
    ResponseEntity<IssuedKey> generate(Account account, @PathVariable String id,
                                       @RequestBody CredentialRequests.GenerateKey body, HttpServletRequest request) {
        QueryParameters.none(request);
        checkId(id);
        CredentialValidator v = new CredentialValidator();
        v.slot(body.slot());
        v.expiresAt(body.expiresAt(), true, clock.instant(), keys);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Credential after = applied(new CredentialCommand.GenerateKey(newCommandId(), id, account.id(), bus.deadline(),
                body.slot(), key.keyId(), key.secretHash(), body.expiresAt(), versions), id);
        return issued(after, key);
    }

    @PostMapping("/{id}/keys/{slot}/regenerate")
    ResponseEntity<IssuedKey> regenerate(Account account, @PathVariable String id, @PathVariable("slot") String slotText,
                                         HttpServletRequest request) throws IOException {
        QueryParameters.none(request);
        checkId(id);
        CredentialRequests.RegenerateKey body = optionalBody(request, CredentialRequests.RegenerateKey.class);
        CredentialValidator v = new CredentialValidator();
        int slot = v.pathSlot(slotText);
        Instant expiresAt = body == null ? null : body.expiresAt();
        v.expiresAt(expiresAt, false, clock.instant(), keys);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Credential after = applied(new CredentialCommand.RegenerateKey(newCommandId(), id, account.id(), bus.deadline(),
                slot, key.keyId(), key.secretHash(), expiresAt, versions), id);
        return issued(after, key);
    }

    @PostMapping("/{id}/keys/{slot}/invalidate")
    ResponseEntity<CredentialView> invalidate(Account account, @PathVariable String id,
                                              @PathVariable("slot") String slotText, HttpServletRequest request)
            throws IOException {
        QueryParameters.none(request);
        checkId(id);
        noFields(request);
        CredentialValidator v = new CredentialValidator();
        int slot = v.pathSlot(slotText);
        List<Long> versions = v.ifMatch(request);
        v.throwIfInvalid();
        return answer(applied(new CredentialCommand.InvalidateKey(newCommandId(), id, account.id(), bus.deadline(),
                slot, versions), id));
    }

    /** The body of a call that takes none: absent, empty or {@code {}}; a field in it is refused, not ignored. */
    private void noFields(HttpServletRequest request) throws IOException {
        optionalBody(request, CredentialRequests.NoFields.class);
    }

    /**
     * An optional JSON body, null when absent or blank; refused like any other body when it does not fit
     * ({@code {"slot":2}} to invalidate slot 1: 400 naming the field). Read as sent, whatever its Content-Type:
     * {@code curl -X POST -d ''} types a body as a form, which Spring refused (415) or handed over re-encoded as form
     * fields ({@code {}} as {@code %7B%7D=}).
     */
    private <T> T optionalBody(HttpServletRequest request, Class<T> type) throws IOException {
        byte[] body = request.getInputStream().readAllBytes(); // bounded by BodyLimits
        if (new String(body, StandardCharsets.UTF_8).isBlank()) {
            return null;
        }
        T value;
        try {
            value = json.readValue(body, type);
        } catch (JacksonException e) {
            // the platform's handler names the field, as for every @RequestBody
            throw new HttpMessageNotReadableException("body: " + type.getSimpleName(), e,
                    new ServletServerHttpRequest(request));
        }
        if (value == null) { // a JSON null reads as no value: refused as every @RequestBody refuses it
            throw ApiProblem.notAnObject();
        }
        return value;
    }

    /** The credential after the command, or the problem its refusal means. */
    private Credential applied(CredentialCommand command, String id) {
        CommandReply reply = bus.send(command);
        return switch (reply.outcome()) {
            case APPLIED -> {
                catchUp.await(reply.keyStates()); // verify here shows the change once the call returns
                yield reply.credential();
            }
            case NOT_FOUND -> throw reply.field() == null ? notFound(id) : ApiProblem.notFound(reply.message());
            case CONFLICT -> throw ApiProblem.conflict(reply.message());
            case INVALID -> throw ApiProblem.invalid(reply.field(), reply.message());
            case PRECONDITION_FAILED -> throw ApiProblem.preconditionFailed(reply.message());
            case EXPIRED -> throw ApiProblem.unavailable("The credential store did not take the change in time;"
                    + " nothing was applied.", CommandBus.RETRY_AFTER);
        };
    }

    private ResponseEntity<IssuedKey> issued(Credential after, ApiKeys.GeneratedKey key) {
        Credential.Key issued = after.keyById(key.keyId()).orElseThrow();
        return ResponseEntity.status(201).body(new IssuedKey(issued.slot(), issued.keyId(), key.apiKey(),
                issued.expiresAt(), issued.createdAt()));
    }

    /** The credential with its version as entity-tag: the {@code If-Match} of a change made over this read. */
    private ResponseEntity<CredentialView> answer(Credential credential) {
        Instant now = clock.instant(); // the view and its tag show the keys' statuses at the same moment
        return ResponseEntity.ok().eTag(IfMatch.tag(credential, now)).body(CredentialView.of(credential, now));
    }

    private CredentialView view(Credential credential) {
        return CredentialView.of(credential, clock.instant());
    }

    /** Ids are ours (UUIDs): anything else cannot exist, and is never sent as a command key. */
    private static String checkId(String id) {
        if (!CredentialIds.isWellFormed(id)) {
            throw notFound(id);
        }
        return id;
    }

    private static ApiProblem notFound(String id) {
        return ApiProblem.notFound(CredentialIds.describe(id));
    }

    private static String newCommandId() {
        return UUID.randomUUID().toString();
    }
}
