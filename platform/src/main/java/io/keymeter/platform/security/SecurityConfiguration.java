package io.keymeter.platform.security;

import io.keymeter.platform.web.NoSniffFilter;
import java.util.List;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** Registers the bearer-token filter and lets controllers take the caller's {@link Account} as a parameter. */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration implements WebMvcConfigurer {

    @Bean
    FilterRegistrationBean<BearerTokenFilter> bearerTokenFilter(AccessTokens tokens, ForwardedCalls forwardedCalls) {
        FilterRegistrationBean<BearerTokenFilter> registration =
                new FilterRegistrationBean<>(new BearerTokenFilter(tokens, forwardedCalls));
        // every path: the filter decides by the routed path (see BearerTokenFilter), not by this mapping
        registration.addUrlPatterns("/*");
        registration.setOrder(-100);
        return registration;
    }

    /**
     * Every answer, the actuator's and the servlet's error pages too, says its type is not to be sniffed: only the
     * API's and the console's did.
     */
    @Bean
    FilterRegistrationBean<NoSniffFilter> noSniffFilter() {
        return NoSniffFilter.registration();
    }

    @Override
    public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
        resolvers.add(new HandlerMethodArgumentResolver() {
            @Override
            public boolean supportsParameter(MethodParameter parameter) {
                return parameter.getParameterType() == Account.class;
            }

            @Override
            public Object resolveArgument(MethodParameter parameter, ModelAndViewContainer mav, NativeWebRequest request,
                                          WebDataBinderFactory binderFactory) {
                Object account = request.getAttribute(Account.ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
                if (account == null) {
                    throw new IllegalStateException("no account on an authenticated path");
                }
                return account;
            }
        });
    }
}
