-- Every area a value refers to, with tier, region and country: the ONS lookups first, the
-- sources' own names for any area the lookups do not know (tier 'unknown', or 'ward' for a
-- ward code outside the ward lookup, its council read from the request that returned it). A ward is never a council: no benchmark, rank or
-- quartile counts it (benchmarks.sql groups councils by is_council).
with ons as (
    select * from {{ ref('stg_ons__areas') }}
),

source_only as (
    select
        a.area_code,
        a.area_name,
        null
            as upper_tier_code,
        case when left(a.area_code, 3) in ('E05', 'W05', 'S13', 'N08') then 'ward' else 'unknown' end as tier,
        null                                                                                          as region_code,
        null                                                                                          as region_name,
        null                                                                                          as country_code,
        null                                                                                          as country_name,
        -- a ward the lookup lacks: its council from the request that returned it (area=<council>:AdministrativeWard)
        case
            when left(a.area_code, 3) in ('E05', 'W05', 'S13', 'N08') then
                case
                    when position(':AdministrativeWard' in a.source_reference) > 9
                        then substr(a.source_reference, position(':AdministrativeWard' in a.source_reference) - 9, 9)
                    when position('%3AAdministrativeWard' in a.source_reference) > 9
                        then substr(a.source_reference, position('%3AAdministrativeWard' in a.source_reference) - 9, 9)
                end
        end                                                                                           as parent_code
    from {{ ref('stg_lginform__areas') }} as a
    where a.area_code not in (select area_code from ons)
)

select
    area_code,
    area_name,
    tier,
    tier not in ('region', 'country', 'ward', 'unknown') as is_council,
    upper_tier_code,
    region_code,
    region_name,
    country_code,
    country_name,
    parent_code
from ons
union all
select
    area_code,
    area_name,
    tier,
    false as is_council,
    upper_tier_code,
    region_code,
    region_name,
    country_code,
    country_name,
    parent_code
from source_only
