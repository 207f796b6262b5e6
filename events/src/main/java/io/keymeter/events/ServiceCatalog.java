package io.keymeter.events;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The metered services and the privilege each needs, modelled on ArcGIS location-service privileges. Served by
 * {@code GET /v1/privileges}; metering refuses a request whose service's privilege the key lacks; billing prices
 * each service.
 */
public final class ServiceCatalog {

    /** One service and the privilege that grants it. */
    public record Service(String privilege, String service, String description) {
    }

    public static final List<Service> ALL = List.of(
            new Service("premium:user:basemaps", "basemaps", "Basemap styles and tiles"),
            new Service("premium:user:geocode:temporary", "geocoding", "Geocoding and search, results not stored"),
            new Service("premium:user:geocode:stored", "geocoding-stored", "Geocoding with results stored"),
            new Service("premium:user:networkanalysis:routing", "routing", "Routing and directions"),
            new Service("premium:user:places", "places", "Places search and details"),
            new Service("premium:user:elevation", "elevation", "Elevation and terrain"),
            new Service("premium:user:demographics", "demographics", "Demographics and data enrichment"),
            new Service("premium:user:spatialanalysis", "spatial-analysis", "Spatial analysis"),
            new Service("portal:user:content", "content", "Content operations on items (no charge)"));

    private static final Map<String, Service> BY_SERVICE =
            ALL.stream().collect(Collectors.toUnmodifiableMap(Service::service, Function.identity()));
    private static final Map<String, Service> BY_PRIVILEGE =
            ALL.stream().collect(Collectors.toUnmodifiableMap(Service::privilege, Function.identity()));

    private ServiceCatalog() {
    }

    /** Why a service outside the catalog is refused, in ingest's and verify's answers alike. */
    public static final String NOT_IN_CATALOG = "is not a service of the catalog";

    public static Optional<Service> byService(String service) {
        return Optional.ofNullable(service == null ? null : BY_SERVICE.get(service));
    }

    public static Optional<Service> byPrivilege(String privilege) {
        return Optional.ofNullable(privilege == null ? null : BY_PRIVILEGE.get(privilege));
    }

    /** The privilege a request for this service needs, if the service exists. */
    public static Optional<String> privilegeFor(String service) {
        return byService(service).map(Service::privilege);
    }
}
