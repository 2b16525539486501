-- credential_get: a cached access token and its remaining lifetime, in one round trip
-- (DESIGN §10.1 "Credentials").
--
-- ARGV: now, credential key
-- Returns { token, pttl ms } or nil when there is none.

local token = redis.call('GET', ARGV[2])
if not token then return nil end
return { token, redis.call('PTTL', ARGV[2]) }
