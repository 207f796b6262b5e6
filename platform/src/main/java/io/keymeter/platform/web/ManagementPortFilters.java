package io.keymeter.platform.web;

import jakarta.servlet.Filter;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

/**
 * With {@code management.server.port} the actuator answers from a context of its own, which takes none of the main
 * context's filters: there it echoed TRACE and left out {@code nosniff}. The same here, and the refusal of a key in a
 * URL (the actuator takes no token, so the bearer-token filter has nothing to do there).
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
public class ManagementPortFilters {

    @Bean
    FilterRegistrationBean<NoSniffFilter> managementNoSniffFilter() {
        return NoSniffFilter.registration();
    }

    @Bean
    FilterRegistrationBean<KeyInUrlGuard> managementKeyInUrlGuard() {
        return onEveryPath(new KeyInUrlGuard(), Ordered.HIGHEST_PRECEDENCE + 1);
    }

    @Bean
    FilterRegistrationBean<TraceGuard> managementTraceGuard() {
        return onEveryPath(new TraceGuard(), Ordered.HIGHEST_PRECEDENCE + 2); // the orders of the main context
    }

    private static <F extends Filter> FilterRegistrationBean<F> onEveryPath(F filter, int order) {
        FilterRegistrationBean<F> registration = new FilterRegistrationBean<>(filter);
        registration.addUrlPatterns("/*");
        registration.setOrder(order);
        return registration;
    }
}
