package org.crlm.cds.feedback;

/** One feedback item stored (for metrics). */
public record FeedbackRecordedEvent(String serviceId, String ruleId, String libraryVersion, String outcome) {}
