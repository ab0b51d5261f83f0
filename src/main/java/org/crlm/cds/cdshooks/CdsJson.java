package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.hapi.fhir.cdshooks.module.CdsHooksObjectMapperFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.springframework.stereotype.Component;

/** Writes HAPI's CDS Hooks JSON model (FHIR resources inside encoded by HAPI's parser). */
@Component
public class CdsJson {

    private final ObjectMapper mapper;

    public CdsJson(FhirContext fhirContext) {
        this.mapper =
                new CdsHooksObjectMapperFactory(fhirContext).newMapper().disable(SerializationFeature.INDENT_OUTPUT);
    }

    public String write(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot write CDS Hooks JSON", e);
        }
    }

    /**
     * As UTF-8 bytes, for a response body: cards quote text beyond Latin-1 (≥, —), so a String
     * would be built as UTF-16 and then encoded twice by Spring's String converter (once for
     * Content-Length, once for the body).
     */
    public byte[] writeBytes(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot write CDS Hooks JSON", e);
        }
    }
}
