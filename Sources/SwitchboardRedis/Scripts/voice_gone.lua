-- voice_gone: the bridge of a call an agent accepted found the caller gone (Twilio 404/21220, a
-- PBX's 404): "the offer becomes an abandon, and the agent is told plainly" (issue 10; the agent
-- sees 来电者已挂机 on the bridge line, outbox_complete).
--
-- ARGV[9] = conversation id, ARGV[10] = channel id
-- Only a call still assigned changes (a status callback may have ended it first): no longer the
-- agent's (capacity back, the agent drains), abandoned and counted (abandoned, calls:abandoned).
-- Returns 1 when it was abandoned now, else 0.

R.setup()
local id, channel = R.arg(1), R.arg(2)
if id == nil or id == '' or channel == nil or channel == '' then fail('bad_request', 'conversation and channel are required') end
return R.abandon_accepted(id, channel) and 1 or 0
