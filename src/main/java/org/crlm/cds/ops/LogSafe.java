package org.crlm.cds.ops;

/**
 * Untrusted values (an unverified JWT's {@code iss} or {@code kid}, ids and paths from a request)
 * made safe for one log line: control and line-separator characters are stripped, so a value
 * cannot forge a line of its own, and the length is capped.
 */
public final class LogSafe {

    static final int MAX_LENGTH = 200;

    private LogSafe() {}

    public static String of(Object value) {
        if (value == null) {
            return null;
        }
        String text = value.toString();
        StringBuilder clean = new StringBuilder(Math.min(text.length(), MAX_LENGTH + 3));
        for (int i = 0; i < text.length() && clean.length() < MAX_LENGTH; i++) {
            char c = text.charAt(i);
            if (!Character.isISOControl(c)
                    && c != '\u2028'
                    && c != '\u2029'
                    && Character.getType(c) != Character.FORMAT) {
                clean.append(c);
            }
        }
        if (clean.length() >= MAX_LENGTH && text.length() > MAX_LENGTH) {
            clean.append("...");
        }
        return clean.toString();
    }
}
