-- Scenario expectations a publish has updated (the publish gate's scenario store reads them on
-- every check, so they survive a restart and every node sees them). file_rules is what the
-- scenario's file expected when the update was made: once the file says something else (the
-- repository has followed, or changed it on purpose), the file wins.
create table cds_scenario_expectation (
    scenario_id     varchar(200)  not null primary key,
    expected_rules  varchar(1000) not null,
    file_rules      varchar(1000) not null,
    updated_at      timestamp with time zone not null
);
