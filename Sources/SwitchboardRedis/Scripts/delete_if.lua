-- delete_if: deletes a string key only while it still holds the caller's value (compare and delete).
-- Lets go of a lock only if the caller holds it (one that expired and was taken by another node is
-- left alone), and forgets a cached access token the provider refused only if it is still that
-- token (two nodes that both saw it refused cause one refresh, not two).
--
-- ARGV: now, key, expected value
-- Returns 1 when deleted, 0 otherwise.

if redis.call('GET', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('DEL', ARGV[2])
return 1
