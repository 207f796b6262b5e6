package io.keymeter.credentials.api;

import io.keymeter.events.ServiceCatalog;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/privileges}: the catalog of service privileges a credential can be given. */
@RestController
class PrivilegesController {

    record PrivilegeList(List<ServiceCatalog.Service> privileges) {
    }

    @GetMapping("/v1/privileges")
    PrivilegeList privileges() {
        return new PrivilegeList(ServiceCatalog.ALL);
    }
}
