package org.crlm.cds.rules;

/** An expression's value, or why it has none. Exactly one of value-or-null and failure is meaningful. */
public record ExpressionResult(ExpressionRef ref, Object value, ExpressionFailure failure, String libraryVersion) {

    public boolean failed() {
        return failure != null;
    }

    public boolean isTrue() {
        return failure == null && Boolean.TRUE.equals(value);
    }
}
