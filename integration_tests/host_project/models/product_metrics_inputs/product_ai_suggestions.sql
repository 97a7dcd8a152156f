-- product_metrics raw input `ai_suggestions` (same columns in Acme's app).
select * from {{ source('app', 'ai_suggestions') }}
