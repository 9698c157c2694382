-- Every inbox file ever received, with its row accounting: nothing received is lost.
select
    *,
    case when status = 'loaded' and rows_received <> rows_accepted + rows_quarantined
        then file_name || ': ' || rows_received || ' received but ' || rows_accepted || ' accepted + '
             || rows_quarantined || ' quarantined' end as accounting_problem
from raw.inbox_files
