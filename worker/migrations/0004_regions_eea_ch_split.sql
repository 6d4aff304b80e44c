-- The region eea-ch is split into eea and ch (README, Content model): the DPA's rules for customers contracted on or
-- before 5 July 2023 treat Switzerland, which is outside the EEA, differently from the EEA. Whoever followed eea-ch
-- follows both, in the place eea-ch had in their list, without duplicates. Deliveries keep the regions they were
-- rendered with: a retried batch must render the same email against its own recorded Annex C.

UPDATE subscribers
SET regions = (
  SELECT json_group_array(value ORDER BY pos)
  FROM (
    SELECT value, MIN(pos) AS pos
    FROM (
      SELECT e.value AS value, e.key * 2 AS pos FROM json_each(subscribers.regions) AS e WHERE e.value <> 'eea-ch'
      UNION ALL
      SELECT 'eea', e.key * 2 FROM json_each(subscribers.regions) AS e WHERE e.value = 'eea-ch'
      UNION ALL
      SELECT 'ch', e.key * 2 + 1 FROM json_each(subscribers.regions) AS e WHERE e.value = 'eea-ch'
    )
    GROUP BY value
  )
)
WHERE EXISTS (SELECT 1 FROM json_each(subscribers.regions) WHERE value = 'eea-ch');

-- A confirmation link not used yet carries the preferences asked for; confirming it must not bring eea-ch back.
UPDATE subscription_tokens
SET request = json_set(request, '$.regions', json((
  SELECT json_group_array(value ORDER BY pos)
  FROM (
    SELECT value, MIN(pos) AS pos
    FROM (
      SELECT e.value AS value, e.key * 2 AS pos FROM json_each(subscription_tokens.request, '$.regions') AS e
      WHERE e.value <> 'eea-ch'
      UNION ALL
      SELECT 'eea', e.key * 2 FROM json_each(subscription_tokens.request, '$.regions') AS e WHERE e.value = 'eea-ch'
      UNION ALL
      SELECT 'ch', e.key * 2 + 1 FROM json_each(subscription_tokens.request, '$.regions') AS e WHERE e.value = 'eea-ch'
    )
    GROUP BY value
  )
)))
WHERE request IS NOT NULL
  AND EXISTS (SELECT 1 FROM json_each(subscription_tokens.request, '$.regions') WHERE value = 'eea-ch');
