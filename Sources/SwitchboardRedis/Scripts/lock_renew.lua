-- lock_renew: extends a lock (SET NX PX owner) only while the caller still holds it.
--
-- ARGV: now, lock key, owner, ttl ms
-- Returns 1 when renewed, 0 when the lock is gone or held by someone else.

if redis.call('GET', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', ARGV[2], tonumber(ARGV[4]))
return 1
