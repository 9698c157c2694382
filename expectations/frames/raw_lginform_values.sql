-- The values this run loaded (the API's and the published extracts').
select * from raw.lginform_values where run_id = $run_id
