import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// A `wechat` channel's own settings, validated by `WeChatChannelFactory` with the key path the
/// operator wrote (DESIGN §10.1 "Config"), alone and through `ChannelCatalog` as `check-config`
/// and `serve` use it.
final class WeChatSettingsTests: XCTestCase {
    private typealias W = WeChatAdapters

    /// The error `make` throws for `config`; fails the test when it succeeds.
    private func refusal(_ config: ChannelConfig, skills: [String] = W.skills,
                         file: StaticString = #filePath, line: UInt = #line) -> ChannelConfigurationError? {
        do {
            _ = try WeChatChannelFactory().make(config, environment: ChannelEnvironment(skills: skills))
            XCTFail("expected a configuration error for \(config.settings)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertKey(_ config: ChannelConfig, _ key: String, _ problem: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = refusal(config, file: file, line: line) else { return }
        XCTAssertEqual(error.key, key, "\(error)", file: file, line: line)
        XCTAssertEqual(error.channelId, config.id, file: file, line: line)
        if let problem { XCTAssertTrue(error.problem.contains(problem), "\(error.problem) should say \(problem)", file: file, line: line) }
    }

    func testTheDefaultsMakeBothAdapters() throws {
        XCTAssertEqual(try W.officialAccount().channelId, "wx-main")
        XCTAssertNotNil(try W.wecom().puller)
        // Plain-mode only: no key at all is allowed for the Official Account.
        XCTAssertNoThrow(try W.officialAccount(["encoding_aes_key": nil, "welcome": nil, "menu_skills.COMPLAINT": nil, "api_base": nil]))
        // The default API hosts.
        XCTAssertEqual(try XCTUnwrap(try W.officialAccount(["api_base": nil]).credentials).tokenRequest(force: false).url,
                       "https://api.weixin.qq.com/cgi-bin/stable_token")
        XCTAssertTrue(try XCTUnwrap(try W.wecom(["api_base": nil]).credentials).tokenRequest(force: false).url
            .hasPrefix("https://qyapi.weixin.qq.com/cgi-bin/gettoken?"))
        // A trailing slash is not doubled.
        XCTAssertEqual(try XCTUnwrap(try W.officialAccount(["api_base": "http://127.0.0.1:9301/"]).credentials).tokenRequest(force: false).url,
                       "http://127.0.0.1:9301/cgi-bin/stable_token")
    }

    func testEveryRequiredKeyIsNamedWhenMissing() {
        for key in ["token", "app_id", "app_secret"] {
            assertKey(W.officialAccountConfig([key: nil]), key, "is required")
            assertKey(W.officialAccountConfig([key: ""]), key, "is required")
        }
        for key in ["token", "corp_id", "secret", "encoding_aes_key"] {
            assertKey(W.wecomConfig([key: nil]), key, "is required")
        }
        var noProvider = W.officialAccountConfig()
        noProvider.provider = nil
        assertKey(noProvider, "provider", "official_account, wecom_kf")
        var badProvider = W.officialAccountConfig()
        badProvider.provider = "mini_program"
        assertKey(badProvider, "provider", "not 'mini_program'")
    }

    func testUnknownKeysAreTypos() {
        assertKey(W.officialAccountConfig(["welcom": "hi"]), "welcom", "is not a setting of a official_account channel")
        assertKey(W.officialAccountConfig(["corp_id": "ww1"]), "corp_id")
        assertKey(W.wecomConfig(["welcome": "hi"]), "welcome", "is not a setting of a wecom_kf channel")
        assertKey(W.wecomConfig(["menu_skills.A": "general"]), "menu_skills.A")
    }

    func testKeysAreChecked() {
        assertKey(W.officialAccountConfig(["encoding_aes_key": "tooshort"]), "encoding_aes_key", "43")
        assertKey(W.officialAccountConfig(["encoding_aes_key": W.oaKey + "H"]), "encoding_aes_key", "43")
        assertKey(W.wecomConfig(["encoding_aes_key": String(W.wecomKey.dropLast())]), "encoding_aes_key")
        assertKey(W.officialAccountConfig(["previous_encoding_aes_key": "short"]), "previous_encoding_aes_key")
        assertKey(W.officialAccountConfig(["encoding_aes_key": nil, "previous_encoding_aes_key": W.oaPreviousKey]),
                  "previous_encoding_aes_key", "needs encoding_aes_key")
    }

    func testApiBaseMustBeAnHTTPURL() {
        for bad in ["ftp://api.example", "api.weixin.qq.com", "http://127.0.0.1:9301?x=1", "https://proxy.example/#frag"] {
            assertKey(W.officialAccountConfig(["api_base": bad]), "api_base", "http(s) URL")
            assertKey(W.wecomConfig(["api_base": bad]), "api_base")
        }
    }

    func testMenuSkillsMustNameDeclaredSkills() {
        assertKey(W.officialAccountConfig(["menu_skills.COMPLAINT": "refunds"]), "menu_skills.COMPLAINT", "unknown skill 'refunds'")
        assertKey(W.officialAccountConfig(["menu_skills.V1001_HELP": "general", "menu_skills.V1002_X": "nosuch"]), "menu_skills.V1002_X")

        // Not a mapping of key → skill: refused by name, not read as "no menu".
        assertKey(W.officialAccountConfig(["menu_skills": "complaints"]), "menu_skills", "must map menu keys")
        assertKey(W.officialAccountConfig(["menu_skills[0]": "complaints"]), "menu_skills[0]", "must map menu keys")
        assertKey(W.officialAccountConfig(["menu_skills.COMPLAINT.skill": "complaints"]), "menu_skills.COMPLAINT.skill", "must map menu keys")
    }

    // MARK: Through the catalog

    private static let yaml = """
    skills: [general, complaints]
    channels:
      - { id: sms-ali, kind: sms, provider: aliyun, skill: general }
      - id: wx-main
        kind: wechat
        provider: official_account
        app_id: wxd0c1a9e4f2b38765
        app_secret: s
        token: t
        encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
        skill: general
        menu_skills: { COMPLAINT: refunds }
      - id: wx-kf
        kind: wechat
        provider: wecom_kf
        corp_id: ww1
        token: t
        encoding_aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C
        skill: general
    """

    func testCatalogNamesTheChannelAndTheKeyPath() throws {
        let configuration = try ConfigurationLoader.load(yaml: Self.yaml, environment: [:])
        let catalog = ChannelCatalog([WeChatChannelFactory()])
        do {
            _ = try catalog.adapters(for: configuration)
            XCTFail("expected the catalog to refuse two channels")
        } catch {
            // The SMS channel has no factory in this catalog; both wechat channels are reported, each with its path.
            let lines = error.description.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, error.description)
            XCTAssertTrue(lines.contains { $0.hasPrefix("channels[1].menu_skills.COMPLAINT: unknown skill 'refunds'") && $0.hasSuffix("(channel 'wx-main')") },
                          error.description)
            XCTAssertTrue(lines.contains { $0.hasPrefix("channels[2].secret: is required") && $0.hasSuffix("(channel 'wx-kf')") }, error.description)
            XCTAssertEqual(error.problems.map(\.key), ["kind", "menu_skills.COMPLAINT", "secret"])
        }
        // Fixed, the same file gives both adapters.
        let fixed = Self.yaml.replacingOccurrences(of: "COMPLAINT: refunds", with: "COMPLAINT: complaints")
            .replacingOccurrences(of: "corp_id: ww1", with: "corp_id: ww1\n    secret: s")
            .replacingOccurrences(of: "  - { id: sms-ali, kind: sms, provider: aliyun, skill: general }\n", with: "")
        let adapters = try catalog.adapters(for: try ConfigurationLoader.load(yaml: fixed, environment: [:]))
        XCTAssertEqual(Set(adapters.keys), ["wx-main", "wx-kf"])
    }
}
