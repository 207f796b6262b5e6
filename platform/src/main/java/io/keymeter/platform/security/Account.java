package io.keymeter.platform.security;

/** The tenant a request acts for, resolved from its bearer token. Controllers take it as a parameter. */
public record Account(String id) {

    static final String ATTRIBUTE = Account.class.getName();
}
