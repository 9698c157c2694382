-- Every area the ONS lookups know: current districts, upper-tier authorities (counties among
-- them), regions, countries and the wards of the ward lookup, each with its tier, region and
-- country. A ward's parent council is parent_code (null for every other area).
with districts as (
    select
        ladcd  as area_code,
        ladnm  as area_name,
        utlacd as upper_tier_code,
        rgncd  as region_code,
        rgnnm  as region_name,
        ctrycd as country_code,
        ctrynm as country_name
    from {{ ref('ons_lad_codes') }}
    where "current"  -- quoted: a keyword; lower case, as PostgreSQL stores the seed's unquoted Current
),

upper_tiers as (
    select
        utlacd as area_code,
        utlanm as area_name,
        utlacd as upper_tier_code,
        rgncd  as region_code,
        rgnnm  as region_name,
        ctrycd as country_code,
        ctrynm as country_name
    from {{ ref('ons_utla_codes') }}
    where
        utlacd not in (select area_code from districts)
        and utlacd in (select upper_tier_code from districts)  -- current upper tiers only
),

regions as (
    select distinct
        region_code as area_code,
        region_name as area_name,
        null        as upper_tier_code,
        region_code,
        region_name,
        country_code,
        country_name
    from districts
    where region_code is not null
),

countries as (
    select distinct
        country_code as area_code,
        country_name as area_name,
        null         as upper_tier_code,
        null         as region_code,
        null         as region_name,
        country_code,
        country_name
    from districts
),

wards as (
    select
        w.wd22cd as area_code,
        w.wd22nm as area_name,
        d.upper_tier_code,
        d.region_code,
        d.region_name,
        d.country_code,
        d.country_name
    from {{ ref('ons_ward_lad_codes') }} as w
    inner join districts as d on d.area_code = w.lad22cd
),

unioned as (
    select * from districts
    union all
    select * from upper_tiers
    union all
    select * from regions
    union all
    select * from countries
    union all
    select * from wards
)

select
    area_code,
    area_name,
    case left(area_code, 3)
        when 'E06' then 'unitary'
        when 'E07' then 'non_metropolitan_district'
        when 'E08' then 'metropolitan_district'
        when 'E09' then 'london_borough'
        when 'E10' then 'county'
        when 'W06' then 'welsh_unitary'
        when 'S12' then 'scottish_council'
        when 'N09' then 'ni_district'
        when 'E12' then 'region'
        when 'E05' then 'ward'
        when 'W05' then 'ward'
        when 'S13' then 'ward'
        when 'N08' then 'ward'
        else 'country'
    end as tier,
    upper_tier_code,
    region_code,
    region_name,
    country_code,
    country_name,
    (
        select w.lad22cd from {{ ref('ons_ward_lad_codes') }} as w
        where w.wd22cd = unioned.area_code
    )   as parent_code
from unioned
