package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

/** Says of every answer that its type is not to be sniffed. */
public class NoSniffFilter extends OncePerRequestFilter {

    /** On every path, first of all: {@link TraceGuard} answers without passing the chain on, and lacked it. */
    public static FilterRegistrationBean<NoSniffFilter> registration() {
        FilterRegistrationBean<NoSniffFilter> registration = new FilterRegistrationBean<>(new NoSniffFilter());
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        response.setHeader("X-Content-Type-Options", "nosniff");
        chain.doFilter(request, response);
    }
}
