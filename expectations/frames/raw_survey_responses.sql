-- The survey rows this run loaded, without the unmapped columns (free-text comments): failing
-- rows are written to the auditor's folder, which must hold no personal data.
select * exclude (extra) from raw.survey_responses where run_id = $run_id
