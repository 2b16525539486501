-- credential_drop: forgets a cached access token the provider refused, only if it is still that
-- token: two nodes that both saw it refused cause one refresh, not two.
--
-- ARGV: now, credential key, the refused token
-- Returns 1 when dropped, 0 when the cache already holds another token (or none).

if redis.call('GET', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('DEL', ARGV[2])
return 1
