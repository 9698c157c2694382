-- Every area a value refers to, with tier, region and country: the ONS lookups first, the
-- sources' own names for any area the lookups do not know (tier 'unknown').
with ons as (
    select * from {{ ref('stg_ons__areas') }}
),

source_only as (
    select
        a.area_code, a.area_name, null as upper_tier_code,
        'unknown' as tier, null as region_code, null as region_name, null as country_code, null as country_name
    from {{ ref('stg_lginform__areas') }} as a
    where a.area_code not in (select area_code from ons)
)

select
    area_code,
    area_name,
    tier,
    tier not in ('region', 'country', 'unknown') as is_council,
    upper_tier_code,
    region_code,
    region_name,
    country_code,
    country_name
from ons
union all
select
    area_code, area_name, tier, false as is_council, upper_tier_code, region_code, region_name, country_code, country_name
from source_only
