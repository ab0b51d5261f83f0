-- The audit row reconstructs a decision: every resource read (reference, version) and where it
-- came from (prefetch key and source: prefetch, fhirServer, local store, hook context), as JSON.
alter table cds_audit_event add column resources_read character varying;
alter table cds_audit_event add column data_sources character varying(1000);
