-- Every published extract ever loaded, with its row accounting: nothing received is lost.
select
    *,
    case when rows_received <> rows_accepted + rows_quarantined
        then path || ': ' || rows_received || ' received but ' || rows_accepted || ' accepted + '
             || rows_quarantined || ' quarantined' end as accounting_problem
from raw.extract_files
