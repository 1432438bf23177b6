//! Names of registry codes, for reports.

/// The IANA name of a cipher suite (as tls-parser's registry knows it), or its hex code.
pub fn cipher_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id)
        .map_or_else(|| format!("0x{id:04x}"), |c| c.name.to_string())
}

/// An alert as "level description (code)", e.g. "fatal bad_certificate (42)" (RFC 8446 6).
pub fn alert_text(level: u8, description: u8) -> String {
    let level = match level {
        1 => "warning",
        2 => "fatal",
        _ => "level-unknown",
    };
    let what = match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => "unknown",
    };
    format!("{level} {what} ({description})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_and_unknown_codes() {
        assert_eq!(cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(cipher_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(cipher_name(0xfefe), "0xfefe");
        assert_eq!(alert_text(2, 42), "fatal bad_certificate (42)");
        assert_eq!(alert_text(1, 0), "warning close_notify (0)");
        assert_eq!(alert_text(3, 200), "level-unknown unknown (200)");
    }
}
