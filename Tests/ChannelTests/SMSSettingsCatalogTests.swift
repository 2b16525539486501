import SMSChannel
import SwitchboardCore
import WebChatChannel
import XCTest

/// An SMS channel's settings are the SMS factory's to check (DESIGN §10.1 "Config"): through the
/// catalog `serve` and `check-config` use, each problem names the channel's place and the key.
final class SMSSettingsCatalogTests: XCTestCase {
    func testProviderAndTwilioSettingsAreCheckedByTheSMSFactoryWithTheirPaths() throws {
        let yaml = """
        skills: [general]
        channels:
          - { id: c0, kind: webchat, skill: general }
          - { id: c2, kind: sms, provider: nexmo, skill: general }
          - { id: c3, kind: sms, skill: general }
          - { id: c4, kind: sms, provider: twilio, skill: general }
          - { id: c5, kind: sms, provider: twilio, skill: general, auth_token: t, public_url: "ftp://x" }
          - { id: c6, kind: sms, provider: twilio, skill: general, auth_token: "", public_url: "https://example.org/sms" }
        visitor_token_secret: 0123456789abcdef
        """
        let configuration = try ConfigurationLoader.load(yaml: yaml, environment: [:])
        let catalog = ChannelCatalog([SMSChannelFactory(), WebChatChannelFactory()])
        XCTAssertThrowsError(try catalog.adapters(for: configuration)) { error in
            guard let error = error as? ChannelCatalogError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.problems.map(\.description), [
                "channels[1].provider: must be one of twilio, aliyun, tencent, generic, not 'nexmo' (channel 'c2')",
                "channels[2].provider: is required (one of twilio, aliyun, tencent, generic) (channel 'c3')",
                "channels[3].auth_token: is required to verify X-Twilio-Signature (channel 'c4')",
                "channels[4].public_url: must be an absolute http(s) URL without spaces or fragment (channel 'c5')",
                "channels[5].auth_token: is required to verify X-Twilio-Signature (channel 'c6')",
            ])
        }
    }

    func testAKindWithoutAFactoryInTheBuildIsNamed() throws {
        let configuration = try ConfigurationLoader.load(yaml: """
        skills: [general]
        channels:
          - { id: mail, kind: email, skill: general }
        """, environment: [:])
        XCTAssertThrowsError(try ChannelCatalog([SMSChannelFactory()]).adapters(for: configuration)) { error in
            XCTAssertEqual((error as? ChannelCatalogError)?.description,
                           "channels[0].kind: 'email' is not supported by this build (channel 'mail')")
        }
    }
}
