-- Helpers the frames share (temporary macros, created on the validating connection).

-- What range an indicator's unit allows: percent 0-100, count a whole number >= 0,
-- non_negative >= 0 (rates, money, days, weights), unbounded (scores, points, unknown units).
create or replace temp macro unit_kind(unit) as
    case
        when unit in ('%', 'percent', 'percentage') then 'percent'
        when unit in ('count', 'persons', 'number', 'households', 'people') then 'count'
        when unit like 'per %' or unit like '£%' or unit in ('days', 'years', 'weeks', 'hours')
          or unit like 'kg%' or unit like 'tonnes%' then 'non_negative'
        else 'unbounded'
    end;

create or replace temp macro whole_number_problem(kind, value) as
    case when kind = 'count' and value is not null and value <> round(value)
        then 'a count of ' || value || ' is not a whole number' end;

create or replace temp macro pii_pattern() as
    '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|(\+44\s?|\b0)(\d\s?){9,10}\b|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b';
