package io.keymeter.platform.web;

import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

/**
 * With {@code management.server.port} the actuator answers from a context of its own, which takes none of the main
 * context's filters: there it echoed TRACE and left out {@code nosniff}. The same two here (the actuator takes no
 * token, so the bearer-token filter has nothing to do there).
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
public class ManagementPortFilters {

    @Bean
    FilterRegistrationBean<NoSniffFilter> managementNoSniffFilter() {
        return NoSniffFilter.registration();
    }

    @Bean
    FilterRegistrationBean<TraceGuard> managementTraceGuard() {
        FilterRegistrationBean<TraceGuard> registration = new FilterRegistrationBean<>(new TraceGuard());
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
        return registration;
    }
}
