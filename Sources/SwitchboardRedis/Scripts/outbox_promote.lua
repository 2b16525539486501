-- outbox_promote: moves delayed outbox entries whose retry time has come back into K.outbox(), where
-- the consumer group delivers them as new entries (DESIGN §11). Every node runs it on a timer; two
-- nodes promoting at once cannot duplicate an entry, since the script is atomic and ZREMs what it
-- moves.
--
-- ARGV: now, limit (1…1000, default 100)
-- Returns the number of entries moved.

local limit = Store.limit(ARGV[2], 100, 1000)
local due = redis.call('ZRANGEBYSCORE', K.outbox_delayed(), '-inf', NOW, 'LIMIT', 0, limit)
for i = 1, #due do
  local ok, f = pcall(cjson.decode, due[i])
  if ok and type(f) == 'table' then
    f.enqueuedAt = tostring(NOW)
    redis.call('XADD', K.outbox(), '*', unpack(Store.fields_flat(f)))
  else
    -- Unreadable: keep it where an operator can see it rather than retrying it forever.
    redis.call('XADD', K.deadletter(), '*', 'raw', due[i], 'error', 'unreadable delayed entry', 'failedAt', NOW)
  end
  redis.call('ZREM', K.outbox_delayed(), due[i])
end
return #due
