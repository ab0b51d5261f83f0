package org.crlm.cds.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.Test;

/** Demo patients and rule test cases written as of one day are read as of today. */
class DateShiftTest {

    @Test
    void aRecordWrittenInMarch2025IsReadAsOfJune2031() {
        Observation size = new Observation();
        size.setEffective(new DateTimeType("2025-02-10T09:00:00Z"));
        size.getIssuedElement().setValueAsString("2025-02-11T10:00:00Z");
        ServiceRequest order = new ServiceRequest();
        order.getAuthoredOnElement().setValueAsString("2025-03-03");
        Bundle record = new Bundle();
        record.addEntry().setResource(size);
        record.addEntry().setResource(order);

        int months = DateShift.months(LocalDate.of(2025, 3, 3), LocalDate.of(2031, 6, 10));
        assertThat(months).isEqualTo(75);
        DateShift.shift(record, months);

        assertThat(((DateTimeType) size.getEffective()).getValueAsString()).isEqualTo("2031-05-10T09:00:00Z");
        assertThat(size.getIssuedElement().getValueAsString()).startsWith("2031-05-11T10:00:00");
        // A date keeps its precision: a day stays a day.
        assertThat(order.getAuthoredOnElement().getValueAsString()).isEqualTo("2031-06-03");
    }

    @Test
    void noShiftOnTheDayOfWriting() {
        Observation size = new Observation();
        size.setEffective(new DateTimeType("2025-02-10T09:00:00Z"));
        DateShift.shift(size, DateShift.months(LocalDate.of(2025, 3, 3), LocalDate.of(2025, 3, 30)));
        assertThat(((DateTimeType) size.getEffective()).getValueAsString()).isEqualTo("2025-02-10T09:00:00Z");
    }
}
