"""Writers for each consumer (open data, BI, the councillors' report, the auditor's quality
report). Plain Python: each writes into a temporary folder that is moved into place only once
complete, so a consumer never reads a half-written export."""
