package org.crlm.cds.cdshooks;

/** Called before the rules are loaded and warmed: 503, try again. */
public class RulesNotReadyException extends RuntimeException {

    public RulesNotReadyException() {
        super("The rules are still loading; try again shortly");
    }
}
