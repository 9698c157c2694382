-- The survey rows this run loaded.
select * from raw.survey_responses where run_id = $run_id
