import Foundation
import SwitchboardTestSupport
import XCTest
@testable import SwitchboardRedis

/// The cheaper helpers of Scripts/_a_base.lua and _b_events.lua against what they replace (they cut
/// Redis's work per routed conversation, Bench/README.md S3): number text against Redis's "%.17g"
/// and cjson's "%.14g", the spliced conversation JSON against cjson.encode of conv_wire, and a
/// conversation record (Conv.set/Conv.del) against the hash it mirrors. Runs a probe script in a
/// library built from the real helper files.
final class ScriptHelperEquivalenceTests: XCTestCase {
    static let probe = #"""
    local function deep_equal(a, b)
      if type(a) ~= type(b) then return false end
      if type(a) ~= 'table' then return a == b end
      for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
      for k in pairs(b) do if a[k] == nil then return false end end
      return true
    end
    local problems = {}
    local function check(ok, what) if not ok then problems[#problems + 1] = what end end

    -- Number text.
    local numbers = { 1, -1, 7, 42, 1700000000000, 1700000020000, -8299999940000, 99999999999999,
      100000000000000, 999999999999999, 1e15, 1e16, 123456789012345678, 0.5, -2.25, 1 / 3, 1e-7,
      -1e20, 2 ^ 53, 0, 3.0 }
    for _, n in ipairs(numbers) do
      check(nstr(n) == string.format('%.17g', n), 'nstr ' .. string.format('%.17g', n))
      check(jnum(n) == cjson.encode(n), 'jnum ' .. string.format('%.17g', n))
    end

    -- Conversation JSON, field texts as stored or as a hand-edited hash might hold them.
    local texts = { false, '0', '7', '007', '-3', '1.5', '1e3', 'abc', '', '1700000000000',
      '99999999999999', '100000000000000', '123456789012345678', ' 12', '0x10' }
    for i, v in ipairs(texts) do
      local c = { id = 'c' .. i, channel = 'web', kind = 'webchat', skill = 's', status = 'queued',
        contact = 'k1', contactName = 'Ann "A" \\ / é', address = '+1', subject = 'sub', category = '',
        assignee = 'a1' }
      if v then
        c.priority, c.createdAt, c.queuedAt, c.firstResponseAt, c.closedAt = v, v, v, v, v
      end
      local ok, want = pcall(cjson.encode, conv_wire(c))
      local ok2, got = pcall(conv_wire_json, c)
      check(ok == ok2, 'conv json error for ' .. tostring(v))
      if ok and ok2 then
        check(deep_equal(cjson.decode(want), cjson.decode(got)), 'conv json for ' .. tostring(v) .. ': ' .. got)
      end
    end

    -- A record follows the hash through Conv.set and Conv.del.
    local id = 'rec'
    redis.call('HSET', K.conv(id), 'id', id, 'status', 'queued', 'offer', 'o1', 'kind', 'sms', 'skill', 's')
    local c = Conv.load(id)
    local first = Conv.json(id, c)
    Conv.set(id, c, 'status', 'offered', 'qscore', 1700000000000 - 0.5, 'assignedAt', NOW)
    Conv.del(id, c, 'offer', 'assignee', 'nothing')
    Conv.set(id, c, 'assignee', 'a1', 'priority', 3)
    Conv.del(id, c, 'never')
    local h = hgetall(K.conv(id))
    local mirror = {}
    for k, v in pairs(c) do if type(k) == 'string' then mirror[k] = v end end
    check(deep_equal(h, mirror), 'record differs from the hash')
    check(Conv.json(id, c) == conv_wire_json(h), 'record json')
    check(Conv.json(id, c) ~= first, 'record json was not refreshed')
    check(deep_equal(cjson.decode(Conv.json(id, c)), conv_table(id)), 'record json differs from conv_table')
    check(Conv.json('nope', Conv.load('nope')) == nil, 'missing conversation')

    if #problems == 0 then return 'ok' end
    return table.concat(problems, '; ')
    """#

    func testCheaperHelpersMatchWhatTheyReplace() throws {
        let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/SwitchboardRedis/Scripts").standardized
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-eq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in try FileManager.default.contentsOfDirectory(atPath: scripts.path) where file.hasPrefix("_") {
            try FileManager.default.copyItem(at: scripts.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        try Self.probe.write(to: dir.appendingPathComponent("probe.lua"), atomically: true, encoding: .utf8)
        let library = try ScriptLibrary.load(directory: dir.path)

        let server = try RedisTestServer()
        let redis = try server.connect()
        let runner = ScriptRunner(redis: redis, library: library)
        var reply: Result<RedisReply, RedisError>?
        runner.eval("probe", keys: ["sb:"], args: ["1700000000000"]) { reply = $0 }
        XCTAssertEqual(try XCTUnwrap(reply).get().string, "ok")
    }
}
