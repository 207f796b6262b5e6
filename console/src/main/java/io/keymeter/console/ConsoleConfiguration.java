package io.keymeter.console;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import java.time.Duration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.CacheControl;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The console role: present only when {@code keymeter.roles} enables it. Serves the single-page console (plain HTML,
 * JavaScript modules and CSS from {@code classpath:/keymeter-console/}) at {@code /} and the Chart.js WebJar under
 * {@code /webjars/}. The console is a client of the public HTTP API only; it has no endpoints of its own.
 *
 * <p>Resource handlers are the last handler mapping Spring MVC consults, and they claim only the console's own
 * paths, so {@code /v1/**} controllers and the actuator endpoints are answered by their own handlers, and an unknown
 * path stays a plain 404.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.CONSOLE)
@ComponentScan(basePackageClasses = ConsoleConfiguration.class)
public class ConsoleConfiguration implements WebMvcConfigurer {

    static final String CONSOLE_LOCATION = "classpath:/keymeter-console/";
    static final String WEBJARS_LOCATION = "classpath:/META-INF/resources/webjars/";
    /** The folders under {@code keymeter-console/} (besides index.html and favicon.svg at its root). */
    static final String[] CONSOLE_FOLDERS = {"js", "css"};

    @Bean
    FilterRegistrationBean<ConsoleHeadersFilter> consoleHeadersFilter() {
        FilterRegistrationBean<ConsoleHeadersFilter> registration = new FilterRegistrationBean<>(new ConsoleHeadersFilter());
        registration.addUrlPatterns("/*");
        return registration;
    }

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        // resourceChain(true) with webjars-locator-lite on the class path resolves version-less WebJar paths
        registry.addResourceHandler("/webjars/**")
                .addResourceLocations(WEBJARS_LOCATION)
                .setCacheControl(CacheControl.maxAge(Duration.ofHours(1)))
                .resourceChain(true);
        // only the console's own paths: a catch-all /** would answer an unknown POST /v1/... with 405 instead of 404.
        // no-cache: the browser revalidates (Last-Modified), so a new release is picked up on the next load.
        // (a "/dir/**" pattern resolves what "**" matched, so each folder is registered with its own location)
        registry.addResourceHandler("/index.html", "/favicon.svg")
                .addResourceLocations(CONSOLE_LOCATION)
                .setCacheControl(CacheControl.noCache());
        for (String folder : CONSOLE_FOLDERS) {
            registry.addResourceHandler("/" + folder + "/**")
                    .addResourceLocations(CONSOLE_LOCATION + folder + "/")
                    .setCacheControl(CacheControl.noCache());
        }
    }

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addViewController("/").setViewName("forward:/index.html");
    }
}
