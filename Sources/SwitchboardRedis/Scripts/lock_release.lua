-- lock_release: lets go of a lock only if the caller holds it; one that expired and was taken by
-- another node is left alone.
--
-- ARGV: now, lock key, owner
-- Returns 1 when released, 0 otherwise.

if redis.call('GET', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('DEL', ARGV[2])
return 1
