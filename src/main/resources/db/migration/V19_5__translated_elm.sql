-- CQL translations kept across restarts (rules/TranslatedElmStore): a restart with unchanged CQL
-- translates nothing. elm_key hashes the CQL text (with the keys of the libraries it includes),
-- the translator's version and its options; cql_sha256 is checked again on every read, so ELM is
-- only ever used for the exact CQL it was translated from. Rows are never updated: a changed
-- library has another key.
create table cds_translated_elm (
    elm_key         varchar(64)  not null primary key,
    library_name    varchar(255) not null,
    library_version varchar(255),
    cql_sha256      varchar(64)  not null,
    elm_json        text         not null,
    warnings        text         not null,
    created_at      timestamp    not null
);
