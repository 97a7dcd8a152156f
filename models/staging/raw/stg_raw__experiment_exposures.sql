-- One row per accepted exposure: a user shown a defined variation of a defined experiment.
with

checked as (
    select * from {{ ref('base_raw__experiment_exposures') }}
),

accepted as (
    select
        exposure_id,
        experiment_id,
        variation,
        user_id,
        exposed_at,
        exposure_date
    from checked
    where rejection_reason is null
)

select * from accepted
