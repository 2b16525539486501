-- queue_position: where a waiting conversation stands, for the visitor's
-- queue{position,estimatedWaitSeconds} (DESIGN §9).
--
-- ARGV[9] = conversation id
-- The estimate is (position + 1) × the moving average of queued → accepted for the skill (kept by
-- offer_accept), else the overall average, else 30 s when nothing was accepted yet.
-- Returns {"position":n,"estimatedWaitSeconds":s} while queued, else {"status":"<status>"}.
-- Errors: not_found.

R.setup()
local id = R.arg(1)
if id == nil or id == '' then fail('bad_request', 'conversation id is required') end
local f = redis.call('HMGET', K.conv(id), 'status', 'skill')
if not f[1] then fail('not_found', 'no conversation ' .. id) end
if f[1] ~= 'queued' then return cjson.encode({ status = f[1] }) end
local pos = redis.call('ZRANK', K.queue(f[2]), id)
if not pos then return cjson.encode({ status = f[1] }) end
local avg = redis.call('HMGET', K.stats(), 'wait_ms:' .. f[2], 'wait_ms')
local ms = tonumber(avg[1]) or tonumber(avg[2]) or 30000
return cjson.encode({ position = pos, estimatedWaitSeconds = math.ceil((pos + 1) * ms / 1000) })
