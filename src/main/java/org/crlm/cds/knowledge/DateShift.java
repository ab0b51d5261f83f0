package org.crlm.cds.knowledge;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Calendar;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;

/**
 * Moves every date, dateTime and instant of a resource (contained resources and Bundle entries
 * included) by a whole number of calendar months, keeping each value's precision. Records
 * written as of one day (demo patients, rule test cases) are moved to within a month of today:
 * rules that look back from now (the measurement window) then read them the same on any later
 * day. Whole months, not days, so that month arithmetic between two dates of the record (the
 * synchronous window of 6 months) is unchanged.
 */
public final class DateShift {

    private DateShift() {}

    /** Whole months from {@code writtenAsOf} to {@code today} (the written day lands at most a month before today). */
    public static int months(LocalDate writtenAsOf, LocalDate today) {
        return Math.toIntExact(ChronoUnit.MONTHS.between(writtenAsOf, today));
    }

    /** Shifts the resource in place by this many months and returns it. */
    public static <T extends IBaseResource> T shift(T resource, int months) {
        if (months == 0) {
            return resource;
        }
        if (resource instanceof Bundle bundle) {
            bundle.getEntry().stream()
                    .filter(Bundle.BundleEntryComponent::hasResource)
                    .forEach(e -> shift(e.getResource(), months));
            return resource;
        }
        FhirTerser terser = FhirContext.forR4Cached().newTerser();
        for (BaseDateTimeType value : terser.getAllPopulatedChildElementsOfType(resource, BaseDateTimeType.class)) {
            if (value.getValue() != null) {
                value.add(Calendar.MONTH, months);
            }
        }
        if (resource instanceof DomainResource domain) {
            domain.getContained().forEach(contained -> shift(contained, months));
        }
        return resource;
    }
}
